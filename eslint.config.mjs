// ESLint (flat config): typescript-eslint's recommended rules over the TypeScript sources, tests
// and scripts, and ESLint's own over the JavaScript files (the pr-diff workflow's script, the
// pre-commit check). Layout is Prettier's job (npm run format:check), not a lint rule.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "bin/", "lib/", "bench-results/", "test/support/"] },
  {
    files: ["**/*.ts"],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    rules: {
      // tsc already rejects unused names (noUnusedLocals, noUnusedParameters); `_` marks a deliberate one.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    // Boundaries where `any` is the honest type: the SDK's untyped mock-monitor requests, parsed
    // documents (a kubeconfig, plan JSON compared by the diff, stack files edited by tests and the
    // benchmark). Everywhere else `any` stays an error, and an exception is a comment at the line.
    files: ["src/plan/recorder.ts", "src/plan/diffNotices.ts", "src/cluster/k3sScripts.ts", "scripts/**/*.ts", "test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // Tests match rendered, indented text (scripts, YAML, the plan tree): spaces written out read like the output.
    files: ["test/**/*.ts"],
    rules: { "no-regex-spaces": "off" },
  },
  {
    files: [".github/scripts/*.cjs", "scripts/*.cjs"],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly", __dirname: "readonly", process: "readonly", Buffer: "readonly" } },
  },
  {
    files: ["scripts/*.mjs", "eslint.config.mjs"],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: "module", globals: { process: "readonly" } },
  },
);
