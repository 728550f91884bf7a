// Which Flux versions the pinned flux-operator can install. The operator builds a FluxInstance from
// the manifests embedded in its image (`config/data/flux/v<version>`) unless
// `spec.distribution.artifact` points elsewhere (internal/controller/fluxinstance_controller.go,
// `fetch`), so a `versions.flux` newer than the operator's newest embedded version leaves the
// FluxInstance failing and `pulumi up` waiting 15 minutes. Pure.
//
// Read from controlplaneio-fluxcd/flux-operator, every tag from v0.1.0 to v0.58.1 (`git ls-tree
// <tag> config/data/flux/`): no version was ever removed, and v2.8.4 was never embedded. The chart
// version is the operator version (charts/flux-operator/Chart.yaml: version X.Y.Z, appVersion vX.Y.Z).

/** Each embedded Flux version and the first operator release that ships it. */
export const FLUX_FIRST_OPERATOR: ReadonlyMap<string, string> = new Map([
  ["2.2.3", "0.1.0"],
  ["2.3.0", "0.1.0"],
  ["2.4.0", "0.10.0"],
  ["2.5.0", "0.15.0"],
  ["2.5.1", "0.16.0"],
  ["2.6.0", "0.21.0"],
  ["2.6.1", "0.22.0"],
  ["2.6.2", "0.23.0"],
  ["2.6.3", "0.24.0"],
  ["2.6.4", "0.24.0"],
  ["2.7.0", "0.30.0"],
  ["2.7.1", "0.31.0"],
  ["2.7.2", "0.32.0"],
  ["2.7.3", "0.33.0"],
  ["2.7.4", "0.34.0"],
  ["2.7.5", "0.35.0"],
  ["2.8.0", "0.42.0"],
  ["2.8.1", "0.43.0"],
  ["2.8.2", "0.44.0"],
  ["2.8.3", "0.45.0"],
  ["2.8.5", "0.46.0"],
  ["2.8.6", "0.48.0"],
  ["2.8.7", "0.49.0"],
  ["2.8.8", "0.50.0"],
  ["2.9.0", "0.53.0"],
  ["2.9.1", "0.54.0"],
  ["2.9.2", "0.55.0"],
  ["2.9.3", "0.56.0"],
  ["2.9.4", "0.58.0"],
]);

/** The newest operator release the table was read at. */
export const NEWEST_KNOWN_OPERATOR = "0.58.1";

function parts(v: string): number[] {
  return v.replace(/^v/, "").split(/[-+]/)[0].split(".").map(Number);
}

/** Compares two x.y.z versions (a leading v and any suffix ignored): negative, 0 or positive. */
export function compareVersions(a: string, b: string): number {
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/** The Flux versions an operator release embeds, oldest first. */
export function embeddedFluxVersions(operator: string): string[] {
  return [...FLUX_FIRST_OPERATOR].filter(([, first]) => compareVersions(first, operator) <= 0).map(([flux]) => flux);
}

export interface FluxVersionVerdict {
  readonly errors: string[];
  readonly warnings: string[];
}

/** Checks `versions.flux` against what `versions.fluxOperator` ships. */
export function checkFluxVersion(operator: string, flux: string): FluxVersionVerdict {
  const op = operator.replace(/^v/, "");
  const fx = flux.replace(/^v/, "");
  const embedded = embeddedFluxVersions(op);
  if (embedded.includes(fx)) return { errors: [], warnings: [] };
  const first = FLUX_FIRST_OPERATOR.get(fx);
  if (compareVersions(op, NEWEST_KNOWN_OPERATOR) > 0 && first === undefined) {
    return {
      errors: [],
      warnings: [
        `versions.flux: cannot check ${flux} against flux-operator ${operator}, which is newer than the releases this program knows (up to ${NEWEST_KNOWN_OPERATOR}); make sure the operator ships Flux ${fx} (its config/data/flux directory)`,
      ],
    };
  }
  const newest = embedded[embedded.length - 1];
  const ships = newest === undefined ? "it ships no Flux version this program knows" : `the newest Flux it ships is ${newest}`;
  const fix =
    first !== undefined
      ? `pin versions.fluxOperator ${first} or newer (the first release that ships ${fx})${newest ? `, or versions.flux ${newest}` : ""}`
      : `pin a Flux version it ships${newest ? `, such as ${newest}` : ""}`;
  return {
    errors: [`versions.flux: flux-operator ${operator} cannot install Flux ${flux} (${ships}${first === undefined ? `; ${fx} is in no operator release` : ""}); ${fix}`],
    warnings: [],
  };
}
