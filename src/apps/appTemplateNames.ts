// The names bjw-s app-template gives its Services, computed from an app's final Helm values the
// way the chart's common library computes them, so that every Ingress backend, port and in-cluster
// URL of an app-template app comes from one function instead of a hand-written name. Pure.
//
// Read at bjw-s-labs/helm-charts tag common-4.1.1 (the newest stored; app-template-4.1.1 depends on
// it, the stacks pin app-template 4.6.2, whose library keeps this rule: common-5.0.0's values
// schema still documents alwaysAppendIdentifierToResourceName "regardless of the enabled resource
// count"):
// - charts/library/common/templates/lib/chart/_names.tpl:14-30 (fullname: global.fullnameOverride,
//   else fullnameOverride, else the release name when it contains the chart name, else
//   `<release>-<name>`; truncated to 63 characters, trailing "-" trimmed);
// - .../lib/service/_enabled_services.tpl:8-23 (a map under `service.<identifier>` is enabled unless
//   `enabled` says otherwise; the count of enabled ones is the itemCount);
// - .../lib/common/_determineResourceNameFromValues.tpl:10-40 (forceRename wins; else prefix, then
//   `-<identifier>` when itemCount > 1 or global.alwaysAppendIdentifierToResourceName, unless the
//   name already ends in it or is it, then suffix; lower-cased);
// - .../classes/_ingress.tpl:70-99 (a backend names its Service and port number).

/** `.Chart.Name` of app-template (its Chart.yaml). */
export const APP_TEMPLATE_CHART_NAME = "app-template";

type Values = Record<string, unknown>;

const isMap = (v: unknown): v is Values => v !== null && typeof v === "object" && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** A value the chart passes through `tpl`: evaluated by Helm, which the plan cannot do. */
function literal(v: string, where: string): string {
  if (v.includes("{{")) throw new Error(`${where}: "${v}" is a Helm template, which the plan cannot evaluate; write the name literally`);
  return v;
}

/** Helm's `trunc 63 | trimSuffix "-"`. */
const trunc63 = (s: string) => {
  const t = s.slice(0, 63);
  return t.endsWith("-") ? t.slice(0, -1) : t;
};

/** The chart's fullname (`bjw-s.common.lib.chart.names.fullname`) for a release. */
export function appTemplateFullname(values: Values, release: string): string {
  const global = isMap(values.global) ? values.global : {};
  const name = trunc63(str(global.nameOverride) ?? str(values.nameOverride) ?? APP_TEMPLATE_CHART_NAME);
  const override = str(global.fullnameOverride) ?? str(values.fullnameOverride);
  if (override !== undefined) return trunc63(override);
  return trunc63(release.includes(name) ? release : `${release}-${name}`);
}

/** The name of one object (`bjw-s.common.lib.determineResourceNameFromValues`). */
export function appTemplateResourceName(values: Values, release: string, identifier: string, object: Values, itemCount: number, where: string): string {
  const forceRename = str(object.forceRename);
  if (forceRename !== undefined) return literal(forceRename, `${where}.forceRename`).toLowerCase();
  let name = appTemplateFullname(values, release);
  const prefix = str(object.prefix);
  if (prefix !== undefined && literal(prefix, `${where}.prefix`) !== name) name = `${prefix}-${name}`;
  const always = isMap(values.global) && values.global.alwaysAppendIdentifierToResourceName === true;
  if ((itemCount > 1 || always) && !name.endsWith(`-${identifier}`) && name !== identifier) name = `${name}-${identifier}`;
  const suffix = str(object.suffix);
  if (suffix !== undefined && !name.endsWith(`-${literal(suffix, `${where}.suffix`)}`)) name = `${name}-${suffix}`;
  return name.toLowerCase();
}

export interface TemplateService {
  readonly identifier: string;
  /** The Service's metadata.name. */
  readonly name: string;
  /** Enabled ports: port name → number. */
  readonly ports: Readonly<Record<string, number>>;
}

/** Every Service the values enable, by identifier, with its name and ports. */
export function appTemplateServices(values: Values, release: string): TemplateService[] {
  const services = isMap(values.service) ? values.service : {};
  const enabled = Object.entries(services).filter((e): e is [string, Values] => isMap(e[1]) && e[1].enabled !== false);
  return enabled.map(([identifier, object]) => {
    const ports = isMap(object.ports) ? object.ports : {};
    return {
      identifier,
      name: appTemplateResourceName(values, release, identifier, object, enabled.length, `service.${identifier}`),
      ports: Object.fromEntries(Object.entries(ports).flatMap(([p, v]) => (isMap(v) && v.enabled !== false && typeof v.port === "number" ? [[p, v.port] as const] : []))),
    };
  });
}

/** A Service and port of an app-template app, named by identifier and port name in its values. */
export interface TemplateServiceRef {
  readonly service: string;
  readonly port: string;
}

/** The Service name and port number a reference resolves to; throws, naming the values key, when the values do not define it. */
export function appTemplateBackend(values: Values, release: string, ref: TemplateServiceRef): { service: string; port: number } {
  const services = appTemplateServices(values, release);
  const s = services.find((x) => x.identifier === ref.service);
  if (s === undefined) {
    const have = services.map((x) => x.identifier);
    throw new Error(
      `service.${ref.service}: no enabled Service with this identifier (${have.length > 0 ? `enabled: ${have.join(", ")}` : "none is enabled"}); the ingress needs it`,
    );
  }
  const port = s.ports[ref.port];
  if (port === undefined) {
    throw new Error(`service.${ref.service}.ports.${ref.port}: no enabled port with this name (${Object.keys(s.ports).join(", ") || "none"}); the ingress needs it`);
  }
  return { service: s.name, port };
}
