# The verbs of this repository. `make help` lists them; each one is a thin wrapper over an npm
# script or the Pulumi CLI, so CI, the README and a person at the keyboard run the same commands.
# STACK is the stack name (Pulumi.<STACK>.yaml); BASE the git ref `make diff` compares against.
STACK ?=
BASE ?= main

.DEFAULT_GOAL := help
.PHONY: help plan diff adopt preview up test lint format format-check hooks

help: ## List the verbs
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  make %-14s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

plan: ## Offline plan of one stack: make plan STACK=lab
	@test -n "$(STACK)" || { echo "make plan: set STACK, e.g. make plan STACK=lab" >&2; exit 2; }
	npm run -s plan -- --stack $(STACK)

diff: ## Offline diff of every stack against BASE (default main), as the PR comment shows it
	npm run -s diff -- --base-ref $(BASE) --all --format markdown

adopt: ## Import file for a running lab (.adopt/STACK/import.json, mode 0600): make adopt STACK=lab
	@test -n "$(STACK)" || { echo "make adopt: set STACK, e.g. make adopt STACK=lab" >&2; exit 2; }
	npm run -s adopt -- --stack $(STACK)

preview: ## Real pulumi preview with diff and refresh (LAN, Pulumi CLI): make preview STACK=lab
	@test -n "$(STACK)" || { echo "make preview: set STACK, e.g. make preview STACK=lab" >&2; exit 2; }
	pulumi preview --stack $(STACK) --diff --refresh

up: ## pulumi up of one stack (asks before changing anything): make up STACK=lab
	@test -n "$(STACK)" || { echo "make up: set STACK, e.g. make up STACK=lab" >&2; exit 2; }
	pulumi up --stack $(STACK) --diff

test: ## Type-check and run the test suite
	npm test

lint: ## ESLint over src, test and scripts, and the secret scan of the tree
	npm run -s lint
	npm run -s secrets

format: ## Format the tree with Prettier
	npm run -s format

format-check: ## Check formatting without writing
	npm run -s format:check

hooks: ## Use the repository's git hooks (.githooks/pre-commit: secret scan and format check)
	git config core.hooksPath .githooks
