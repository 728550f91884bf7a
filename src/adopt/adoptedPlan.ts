// What the state holds right after `pulumi import --file`, as a plan document the offline diff reads
// as its base: the stack, the explicit providers (made by the import from providerInputs), the
// components and every imported resource, at the program's URNs. Pure.
//
// An imported resource's inputs are what the provider reads from the lab; offline they are taken to
// be the program's own (the lab already is what the stack describes: `pulumi preview` after the
// import shows where it is not), except where the provider's import sets them by construction:
// a random password's ImportState writes length = len(value) and special/upper/lower/numeric =
// true (terraform-provider-random v3.8.1 internal/provider/resource_password.go ImportState), every
// one of them RequiresReplace. The diff of the stack against this base is what the first
// `pulumi up` after the import does: creates only for what the import cannot take.
import type { PlanJson, PlanJsonResource } from "../plan/format";
import type { Adoption } from "./importFile";

/** The inputs terraform-provider-random's ImportState gives a password (resource_password.go, v3.8.1). */
export function importedPasswordInputs(length: number): Record<string, unknown> {
  return { length, special: true, upper: true, lower: true, number: true, numeric: true, minLower: 0, minNumeric: 0, minSpecial: 0, minUpper: 0 };
}

export function adoptedBase(plan: PlanJson, adoption: Adoption): PlanJson {
  const skipped = new Set(adoption.notImported.map((n) => n.urn));
  const resources: PlanJsonResource[] = [];
  for (const r of plan.resources) {
    if (skipped.has(r.urn)) continue;
    if (r.type === "random:index/randomPassword:RandomPassword") {
      const length = typeof r.inputs.length === "number" ? r.inputs.length : 0;
      // The state of an import records neither dependencies nor options the program sets.
      resources.push({ ...r, inputs: importedPasswordInputs(length), dependencies: [], propertyDependencies: {} });
      continue;
    }
    resources.push(r);
  }
  return { ...plan, resources };
}
