// Day-two scenarios: plan a stack file as it is, plan it again after an edit of its YAML, and
// return what the offline diff says (one stack entry of the diff JSON contract). Both plans run in
// this process; the base plan of each file is planned once and reused.
//
//   const d = await scenario("Pulumi.lab.yaml", (doc) => { doc.config["homelab:nodes"][0].memory = 16384; });
//   assert.equal(d.changes.find((c) => c.name === "k3s-server-01-vm")?.op, "update");
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse, stringify } from "yaml";
import { diffPlans, type StackDiff } from "../src/plan/diff";
import { toPlanJson, type PlanJson } from "../src/plan/format";
import { parseStackFile, runPlan } from "../src/plan/run";

const ROOT = join(__dirname, "..");

/** A stack file parsed: `config` holds the `homelab:*` keys as plain data. */
export type StackDoc = { config: Record<string, any> } & Record<string, unknown>;

const basePlans = new Map<string, Promise<PlanJson>>();

function stackName(file: string): string {
  return basename(file)
    .replace(/\.ya?ml$/, "")
    .replace(/^Pulumi\./, "");
}

async function planDoc(doc: StackDoc, stack: string): Promise<PlanJson> {
  return toPlanJson(await runPlan({ stack, stackFile: parseStackFile(stringify(doc)) }));
}

function readDoc(file: string): StackDoc {
  return parse(readFileSync(join(ROOT, file), "utf8")) as StackDoc;
}

export interface ScenarioOptions {
  /** An edit of the base too, for a scenario that starts from another state ("a stack that had no NFS"). */
  readonly base?: (doc: StackDoc) => void;
}

/**
 * The diff of `stackFile` (relative to the project root) against a fresh copy of it edited by
 * `edit`. The edit may mutate `doc` or return a replacement document. With `opts.base`, the base is
 * the file edited by it (the head is still the file edited by `edit` alone).
 */
export async function scenario(stackFile: string, edit: (doc: StackDoc) => void | StackDoc, opts: ScenarioOptions = {}): Promise<StackDiff> {
  const stack = stackName(stackFile);
  let base: Promise<PlanJson>;
  let baseDoc = readDoc(stackFile);
  if (opts.base) {
    baseDoc = opts.base(baseDoc) ?? baseDoc;
    base = planDoc(baseDoc, stack);
  } else {
    let cached = basePlans.get(stackFile);
    if (!cached) {
      cached = planDoc(baseDoc, stack);
      basePlans.set(stackFile, cached);
    }
    base = cached;
  }
  const basePlan = await base;
  // The head is the file as committed, edited: the base edit does not carry over.
  let headDoc = readDoc(stackFile);
  headDoc = edit(headDoc) ?? headDoc;
  const headPlan = await planDoc(headDoc, stack);
  return diffPlans(basePlan, headPlan, stack);
}
