// Validation of a whole stack config: the strict schema, then cross-field checks.
// Every problem is reported at once, each as `path.to.field: problem; how to fix`.
import { closest } from "fastest-levenshtein";
import { z } from "zod";
import { isHostIn, isInCidr, networkOf, parseCidr, parseRange, rangeContains, type IpRange } from "./ip";
import { firewallChecks } from "./firewallSchema";
import { k3sArgsChecks } from "./k3sArgs";
import { lanAllowlistWarnings } from "./lanWarnings";
import { allVms, type Homelab, type VmDraft } from "./model";
import { resolveStack, type SecretSource } from "./resolve";
import { SECRET_KEYS, stackSchema, type SecretKey, type StackConfig } from "./schema";
import { truenasChecks } from "./truenasSchema";

/** How a secret key was found in the stack: absent, set with --secret, or (wrongly) in plain text. */
export type SecretPresence = "secret" | "plain" | "absent";

export interface ValidateOptions<S = SecretKey> {
  /** Presence of each secret key. */
  readonly secrets: Readonly<Record<SecretKey, SecretPresence>>;
  /**
   * Extra checks from higher layers (e.g. the app catalog), run on a schema-valid config: errors,
   * or errors and warnings.
   */
  readonly extraChecks?: ReadonlyArray<(config: StackConfig) => string[] | ExtraCheckResult>;
  /**
   * Plain keys (not SECRET_KEYS) that hold a `secure:` value somewhere inside. The program reads
   * them as plain config, so such a value would be deployed and stored unencrypted. Default none.
   */
  readonly secretValuedKeys?: readonly string[];
  /** How the resolved model holds a secret that is set (the loader: a Pulumi secret). Default: its key name. */
  readonly secretValue?: (key: SecretKey) => S;
}

/** What an extra check may report besides errors: warnings the plan prints. */
export interface ExtraCheckResult {
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

export type ValidationResult<S = SecretKey> =
  | { readonly ok: true; readonly config: Homelab<S>; readonly warnings: string[] }
  | { readonly ok: false; readonly errors: string[]; readonly warnings: string[] };

/** Renders a zod path as `nodes[0].ip`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** The object keys the schema allows at `path` (for "did you mean"). */
function allowedKeysAt(path: ReadonlyArray<PropertyKey>): string[] {
  let s: z.ZodType = stackSchema;
  const unwrap = (t: z.ZodType): z.ZodType => {
    let cur: z.ZodType = t;
    for (;;) {
      if (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional) cur = cur.unwrap() as z.ZodType;
      else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType;
      else return cur;
    }
  };
  for (const seg of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(seg)];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else return [];
    if (!s) return [];
  }
  s = unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** How a person names a value of zod's expected type. */
const KIND: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a map",
  record: "a map",
};
const kind = (expected: string): string => KIND[expected] ?? expected;

/** What was written instead: the value itself for scalars, the shape for lists and maps. */
function describeValue(input: unknown): string {
  if (Array.isArray(input)) return "a list";
  if (input !== null && typeof input === "object") return "a map";
  return JSON.stringify(input);
}

function formatIssue(issue: z.core.$ZodIssue, raw: unknown): string[] {
  const path = formatPath(issue.path);
  const at = (p: string) => (p === "" ? "(top level)" : p);
  const input = issue.path.reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<PropertyKey, unknown>)[k] : undefined), raw);
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((k) => {
        const allowed = allowedKeysAt(issue.path);
        const guess = allowed.length > 0 ? closest(k, allowed) : undefined;
        // Top-level keys are written `homelab:<key>` in the stack file.
        if (path === "") return `homelab:${k}: unknown key; remove it${guess ? ` (did you mean 'homelab:${guess}'?)` : ""}`;
        return `${path}.${k}: unknown key; remove it${guess ? ` (did you mean '${guess}'?)` : ""}`;
      });
    case "invalid_key": {
      // A map key that breaks its pattern (a label key, an image name): the path ends with the key.
      const key = String(issue.path[issue.path.length - 1]);
      const reason = issue.issues[0]?.message ?? "is not allowed";
      return [`${at(formatPath(issue.path.slice(0, -1)))}: key ${JSON.stringify(key)} is invalid; it ${reason}`];
    }
    case "invalid_type":
      if (input === undefined) return [`${at(path)}: is required; set it to ${kind(issue.expected)}`];
      return [`${at(path)}: expected ${kind(issue.expected)}, got ${describeValue(input)}; change it to ${kind(issue.expected)}`];
    case "invalid_value":
      return [`${at(path)}: ${JSON.stringify(input)} is not allowed; use one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`];
    case "too_small":
      if (issue.origin === "string") {
        return [Number(issue.minimum) <= 1 ? `${at(path)}: is empty; set it or leave the key out for its default` : `${at(path)}: ${JSON.stringify(input)} is shorter than ${String(issue.minimum)} characters; lengthen it`];
      }
      if (Array.isArray(input) || (input !== null && typeof input === "object")) return [`${at(path)}: ${issue.message}`];
      return [`${at(path)}: ${JSON.stringify(input)} is below the minimum of ${String(issue.minimum)}; raise it`];
    case "too_big":
      if (issue.origin === "string") return [`${at(path)}: ${JSON.stringify(input)} is longer than ${String(issue.maximum)} characters; shorten it`];
      if (issue.origin === "array") return [`${at(path)}: has more than ${String(issue.maximum)} entries; remove some`];
      return [`${at(path)}: ${JSON.stringify(input)} is above the maximum of ${String(issue.maximum)}; lower it`];
    case "custom":
      // Refinements carry a whole sentence: problem; fix.
      return [`${at(path)}: ${issue.message}`];
    default:
      // Format checks carry their own "must be ... such as ..." message.
      return [`${at(path)}: ${JSON.stringify(input)} is invalid; it ${issue.message}`];
  }
}

function duplicates<T>(items: readonly T[], key: (t: T) => string | number, describe: (t: T) => string, what: string, fix: string): string[] {
  const seen = new Map<string | number, T>();
  const errors: string[] = [];
  for (const item of items) {
    const k = key(item);
    const first = seen.get(k);
    if (first !== undefined) errors.push(`${describe(item)}: ${what} ${k} is also used by ${describe(first)}; ${fix}`);
    else seen.set(k, item);
  }
  return errors;
}

/** Cross-field checks on a schema-valid config. Pure. */
export function crossCheck(cfg: StackConfig): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const vms = allVms(cfg);
  const where = (v: VmDraft) => `${v.path} (${v.name})`;
  const subnet = cfg.network.subnet;

  if (networkOf(subnet) !== subnet.split("/")[0]) {
    errors.push(`network.subnet: ${subnet} has host bits set; use the network address ${networkOf(subnet)}/${parseCidr(subnet).prefix}`);
  }
  const gatewayProblem = notAHostOf(cfg.network.gateway, subnet);
  if (gatewayProblem !== undefined) {
    const fix = isInCidr(cfg.network.gateway, subnet) ? "use one of its host addresses" : "use a gateway inside it";
    errors.push(`network.gateway: ${cfg.network.gateway} ${gatewayProblem}; ${fix}`);
  }
  errors.push(...duplicates(cfg.proxmox.nodes, (n) => n.name, (n) => `proxmox.nodes[${cfg.proxmox.nodes.indexOf(n)}].name`, "name", "give each Proxmox node its own name"));
  errors.push(...duplicates(vms, (v) => v.name, (v) => `${v.path}.name`, "hostname", "give each VM its own name"));
  errors.push(...duplicates(vms, (v) => v.vmid, (v) => `${v.path}.vmid (${v.name})`, "VMID", "give each VM its own VMID"));
  errors.push(...duplicates(vms, (v) => v.ip, (v) => `${v.path}.ip (${v.name})`, "address", "give each VM its own address"));

  const imageNames = Object.keys(cfg.images);
  for (const [name, image] of Object.entries(cfg.images)) {
    if (/\/(current|latest)\//.test(new URL(image.url).pathname)) {
      errors.push(`images.${name}.url: ${image.url} is a moving link: the file behind it changes and stops matching its checksum; use a dated release URL (e.g. .../releases/noble/release-20251213/...)`);
    }
  }
  errors.push(
    ...duplicates(
      imageNames,
      (n) => cfg.images[n].fileName,
      (n) => `images.${n}.fileName`,
      "file name",
      "give each image its own file name (they share the import storage)",
    ),
  );

  for (const v of vms) {
    if (v.ip === cfg.network.gateway) {
      errors.push(`${v.path}.ip (${v.name}): ${v.ip} is the gateway's address; pick a free address in ${subnet}`);
    } else if (notAHostOf(v.ip, subnet) !== undefined) {
      const fix = isInCidr(v.ip, subnet) ? "use one of its host addresses" : "use an address inside it";
      errors.push(`${v.path}.ip (${v.name}): ${v.ip} ${notAHostOf(v.ip, subnet)}; ${fix}`);
    }
  }

  // Roles and quorum.
  const servers = cfg.nodes.filter((n) => n.role === "server");
  if (servers.length === 1) {
    warnings.push(`nodes: a single server has no control-plane redundancy; use 3 servers for HA embedded etcd`);
  } else if (servers.length > 0 && servers.length % 2 === 0) {
    errors.push(`nodes: ${servers.length} servers cannot keep embedded etcd quorum through a failure (an even count tolerates no more failures than one fewer); use ${servers.length + 1} or ${servers.length - 1} servers`);
  }
  cfg.nodes.forEach((n, i) => {
    if (n.dataDiskSize !== undefined && !cfg.storage.longhorn.enabled) {
      errors.push(`nodes[${i}].dataDiskSize (${n.name}): a data disk is only for Longhorn; set storage.longhorn.enabled: true or remove dataDiskSize`);
    }
  });
  const gpuNodes = vms.flatMap((v) => (v.gpu ? [{ ...v, gpu: v.gpu }] : []));
  errors.push(
    ...duplicates(
      gpuNodes,
      (n) => `${n.host}/${n.gpu.pciPath}`,
      (n) => `${n.path}.gpu.pciPath (${n.name})`,
      "device",
      "pass each PCI device through to one VM only",
    ),
  );

  // MetalLB and Traefik.
  let range: IpRange | undefined;
  if (cfg.metallb.enabled) {
    if (cfg.metallb.range !== undefined) {
      try {
        range = parseRange(cfg.metallb.range);
      } catch (e) {
        errors.push(`metallb.range: ${(e as Error).message}; write it as first-last with first <= last`);
      }
    }
    if (range) {
      if (!isHostIn(range.first, subnet) || !isHostIn(range.last, subnet)) {
        errors.push(`metallb.range: ${cfg.metallb.range} is not inside the subnet ${subnet}; L2 mode announces only addresses of the VMs' subnet, so pick a range inside it`);
      }
      if (rangeContains(range, cfg.network.gateway)) {
        errors.push(`metallb.range: ${cfg.metallb.range} contains the gateway ${cfg.network.gateway}; move the range off the gateway`);
      }
      for (const v of vms) {
        if (rangeContains(range, v.ip)) {
          errors.push(`metallb.range: ${cfg.metallb.range} contains ${v.ip}, the address of ${where(v)}; move the range or the VM`);
        }
      }
      // Other hosts the config names on the LAN: MetalLB would answer ARP for them too.
      const hosts: [string, string][] = [
        ...cfg.network.dns.map((ip, i): [string, string] => [`network.dns[${i}]`, ip]),
        ...(cfg.storage.nfs.enabled && cfg.storage.nfs.server !== undefined ? [["storage.nfs.server", cfg.storage.nfs.server] as [string, string]] : []),
        ...(cfg.storage.nfs.enabled && cfg.storage.nfs.backupServer !== undefined ? [["storage.nfs.backupServer", cfg.storage.nfs.backupServer] as [string, string]] : []),
      ];
      for (const [key, ip] of hosts) {
        if (ip !== cfg.network.gateway && rangeContains(range, ip)) {
          errors.push(`metallb.range: ${cfg.metallb.range} contains ${ip}, the address of ${key}; move the range off it`);
        }
      }
    }
  }
  const traefikIp = cfg.traefik.loadBalancerIp;
  if (traefikIp !== undefined) {
    if (!cfg.metallb.enabled) {
      errors.push(`traefik.loadBalancerIp: needs MetalLB to hand out the address; set metallb.enabled: true or remove traefik.loadBalancerIp`);
    } else if (range && !rangeContains(range, traefikIp)) {
      errors.push(`traefik.loadBalancerIp: ${traefikIp} is outside metallb.range ${cfg.metallb.range}; pick an address inside the range`);
    }
    if (!cfg.cluster.traefik) {
      errors.push(`traefik.loadBalancerIp: cluster.traefik is false, so there is no Traefik to pin; remove it or set cluster.traefik: true`);
    }
  }
  if (cfg.cluster.apiVip !== undefined) {
    const owner = vms.find((v) => v.ip === cfg.cluster.apiVip);
    if (owner) errors.push(`cluster.apiVip: ${cfg.cluster.apiVip} is the address of ${where(owner)}; a VIP must be a free address`);
    if (range && rangeContains(range, cfg.cluster.apiVip)) errors.push(`cluster.apiVip: ${cfg.cluster.apiVip} lies in metallb.range; take it out of the pool`);
  }
  for (const [key, c] of [["cluster.clusterCidr", cfg.cluster.clusterCidr], ["cluster.serviceCidr", cfg.cluster.serviceCidr]] as const) {
    if (isInCidr(networkOf(subnet), c) || isInCidr(networkOf(c), subnet)) {
      errors.push(`${key}: ${c} overlaps the VM subnet ${subnet}; pick a private range that does not`);
    }
  }

  const v = cfg.versions;
  if (cfg.dns.enabled) {
    // Cloudflare accepts 1 (automatic) or 60-86400 seconds.
    if (cfg.dns.ttl !== 1 && (cfg.dns.ttl < 60 || cfg.dns.ttl > 86_400)) {
      errors.push(`dns.ttl: ${cfg.dns.ttl} is not a TTL Cloudflare accepts; use 1 (automatic) or 60 to 86400 seconds`);
    }
    if (cfg.dns.proxied && traefikIp !== undefined && isPrivateIpv4(traefikIp)) {
      errors.push(`dns.proxied: Cloudflare's proxy cannot reach the private address ${traefikIp} (traefik.loadBalancerIp); set dns.proxied: false`);
    }
  }
  if (traefikIp !== undefined && cfg.metallb.enabled && v.metallb && versionBefore(v.metallb, [0, 14, 9])) {
    errors.push(`versions.metallb: ${v.metallb} does not read the metallb.io/loadBalancerIPs annotation that pins traefik.loadBalancerIp (added in 0.14.9); pin 0.14.9 or newer`);
  }
  if (cfg.storage.nfs.backupServer !== undefined && cfg.storage.nfs.backupShare === undefined) {
    errors.push(`storage.nfs.backupServer: is the server of backupShare, which is not set; set storage.nfs.backupShare or remove backupServer`);
  }
  if (cfg.storage.nfs.backupShare && !cfg.storage.nfs.enabled) {
    errors.push(`storage.nfs.backupShare: needs storage.nfs.enabled: true; enable NFS or remove backupShare`);
  }
  for (const lan of cfg.traefik.lanAllowlist ?? []) {
    if (networkOf(lan) !== lan.split("/")[0]) {
      errors.push(`traefik.lanAllowlist: ${lan} has host bits set; use ${networkOf(lan)}/${parseCidr(lan).prefix}`);
    }
  }
  errors.push(...k3sArgsChecks(cfg));
  errors.push(...firewallChecks(cfg));
  errors.push(...truenasChecks(cfg));
  warnings.push(...lanAllowlistWarnings(cfg));
  return { errors, warnings };
}

/** Why `ip` cannot be a host address of `subnet` (outside it, or its network or broadcast address), or undefined. */
function notAHostOf(ip: string, subnet: string): string | undefined {
  if (isHostIn(ip, subnet)) return undefined;
  if (!isInCidr(ip, subnet)) return `is outside the subnet ${subnet}`;
  return ip === networkOf(subnet) ? `is the network address of ${subnet}` : `is the broadcast address of ${subnet}`;
}

/** RFC 1918 private IPv4 space. */
function isPrivateIpv4(ip: string): boolean {
  return ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].some((c) => isInCidr(ip, c));
}

/** True when a pinned version (1.2.3 or v1.2.3, any suffix ignored) is older than `min`. */
function versionBefore(version: string, min: readonly [number, number, number]): boolean {
  const parts = version.replace(/^v/, "").split(/[-+]/)[0].split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    if (parts[i] !== min[i]) return parts[i] < min[i];
  }
  return false;
}

/** Secret-key checks: required ones present, and never stored in plain text. */
function checkSecrets(secrets: ValidateOptions["secrets"], secretValuedKeys: readonly string[]): string[] {
  const errors: string[] = [];
  for (const key of SECRET_KEYS) {
    if (secrets[key] === "plain") {
      errors.push(`${key}: is stored in plain text in the stack file; remove it and run \`pulumi config set --secret homelab:${key}\``);
    }
  }
  for (const key of secretValuedKeys) {
    errors.push(
      `${key}: holds a secure: value, but only ${SECRET_KEYS.join(", ")} are read as secrets, so it would be deployed and stored in plain text; remove the secure: value`,
    );
  }
  // Secrets an enabled feature needs are required by resolveStack.
  const required = (key: SecretKey, why: string) => {
    if (secrets[key] === "absent") errors.push(`${key}: is required because ${why}; run \`pulumi config set --secret homelab:${key} ...\``);
  };
  required("proxmoxApiToken", "the Proxmox provider needs an API token");
  required("sshPrivateKey", "VM readiness and k3s run over SSH");
  return errors;
}

/**
 * Validates the raw `homelab:` config (keys without the namespace, values parsed from YAML) and
 * resolves it into the model. `secretValue` says how the model holds a secret (default: its key
 * name). Pure: registers nothing, reads nothing.
 */
export function validateStackConfig<S = SecretKey>(raw: Readonly<Record<string, unknown>>, opts: ValidateOptions<S>): ValidationResult<S> {
  const plain: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(raw)) {
    if (!(SECRET_KEYS as readonly string[]).includes(k)) plain[k] = val;
  }
  const secretSource: SecretSource<S> = {
    present: (k) => opts.secrets[k] === "secret",
    value: opts.secretValue ?? ((k) => k as S),
  };
  const parsed = stackSchema.safeParse(plain);
  if (!parsed.success) {
    const errors = parsed.error.issues.flatMap((i) => formatIssue(i, plain));
    errors.push(...checkSecrets(opts.secrets, opts.secretValuedKeys ?? []));
    return { ok: false, errors: unique(errors), warnings: [] };
  }
  const cfg = parsed.data;
  const { errors, warnings } = crossCheck(cfg);
  const resolved = resolveStack(cfg, secretSource);
  errors.push(...resolved.errors);
  errors.push(...checkSecrets(opts.secrets, opts.secretValuedKeys ?? []));
  for (const check of opts.extraChecks ?? []) {
    const r = check(cfg);
    if (Array.isArray(r)) errors.push(...r);
    else {
      errors.push(...(r as ExtraCheckResult).errors);
      warnings.push(...(r as ExtraCheckResult).warnings);
    }
  }
  if (errors.length > 0 || resolved.model === undefined) return { ok: false, errors: unique(errors), warnings };
  return { ok: true, config: resolved.model, warnings };
}

/** Drops repeated errors, keeping the first of each in place (config order). */
function unique(errors: string[]): string[] {
  return [...new Set(errors)];
}
