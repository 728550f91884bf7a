// Validation of a whole stack config: the strict schema, then cross-field checks.
// Every problem is reported at once, each as `path.to.field: problem; how to fix`.
import { DOMAIN_CHECK_KEYS, domainChecks } from "./domains";
import { isHostIn, isInCidr, networkOf, parseCidr, parseRange, rangeContains, type IpRange } from "./ip";
import { externalDnsChecks } from "./externalDnsSchema";
import { firewallChecks } from "./firewallSchema";
import { k3sArgsChecks } from "./k3sArgs";
import { lanAllowlistWarnings } from "./lanWarnings";
import { formatIssue } from "./messages";
import { allVms, fileIndex, type Homelab, type VmDraft } from "./model";
import { parseConfig } from "./parse";
import { resolveStack, type PartialStackConfig, type SecretSource } from "./resolve";
import { defaultsSchema, SECRET_KEYS, type SecretKey, type StackConfig } from "./schema";
import { truenasChecks } from "./truenasSchema";

/** The VM sizing defaults, for checks on a config whose `defaults` did not parse (they read no size). */
const DEFAULTS = defaultsSchema.parse({});

/** A check on whatever part of the config parsed, told which lists lost entries (`parseConfig`). */
export type ConfigCheck = (config: PartialStackConfig, incompleteLists: ReadonlySet<string>) => readonly string[] | ExtraCheckResult;

/**
 * A check that reads `keys`, run only when they all parsed whole (a list that lost an entry could
 * make it report a problem the config does not have). It is typed to see only those keys, so a
 * check that starts reading another must name it here.
 */
export function needing<K extends keyof StackConfig, R extends readonly string[] | ExtraCheckResult>(
  keys: readonly K[],
  check: (config: Pick<StackConfig, K>) => R,
): (config: PartialStackConfig, incompleteLists: ReadonlySet<string>) => R | [] {
  return (config, incompleteLists) => {
    const picked: Partial<Pick<StackConfig, K>> = {};
    for (const k of keys) {
      const value = config[k];
      if (value === undefined || incompleteLists.has(k)) return [];
      picked[k] = value;
    }
    return check(picked as Pick<StackConfig, K>);
  };
}

/** How a secret key was found in the stack: absent, set with --secret, or (wrongly) in plain text. */
export type SecretPresence = "secret" | "plain" | "absent";

export interface ValidateOptions<S = SecretKey> {
  /** Presence of each secret key. */
  readonly secrets: Readonly<Record<SecretKey, SecretPresence>>;
  /** Extra checks from higher layers (e.g. the app catalog), run on whatever parsed (see `needing`). */
  readonly extraChecks?: ReadonlyArray<ConfigCheck>;
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
  { readonly ok: true; readonly config: Homelab<S>; readonly warnings: string[] } | { readonly ok: false; readonly errors: string[]; readonly warnings: string[] };

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

/**
 * Cross-field checks on whatever part of the config parsed (`parseConfig`): each check runs when
 * the keys it reads are there. A count over a list some entries were left out of is not checked
 * (it would be wrong). Pure.
 */
export function crossCheck(cfg: PartialStackConfig, incompleteLists: ReadonlySet<string> = new Set()): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const vms = allVms({ nodes: cfg.nodes ?? [], vms: cfg.vms ?? [], defaults: cfg.defaults ?? DEFAULTS });
  const where = (v: VmDraft) => `${v.path} (${v.name})`;
  const net = cfg.network;
  const subnet = net?.subnet;
  const pveNodes = (cfg.proxmox?.nodes ?? []).map((n, i) => ({ ...n, path: `proxmox.nodes[${fileIndex(n, i)}]` }));
  /** The Proxmox node whose address `ip` is, as `Proxmox node pve-a (proxmox.nodes[0].address)`. */
  const pveAt = (ip: string) => {
    const n = pveNodes.find((p) => p.address === ip);
    return n === undefined ? undefined : `Proxmox node ${n.name} (${n.path}.address)`;
  };

  if (net && subnet) {
    if (networkOf(subnet) !== subnet.split("/")[0]) {
      errors.push(`network.subnet: ${subnet} has host bits set; use the network address ${networkOf(subnet)}/${parseCidr(subnet).prefix}`);
    }
    const gatewayProblem = notAHostOf(net.gateway, subnet);
    if (gatewayProblem !== undefined) {
      const fix = isInCidr(net.gateway, subnet) ? "use one of its host addresses" : "use a gateway inside it";
      errors.push(`network.gateway: ${net.gateway} ${gatewayProblem}; ${fix}`);
    }
  }
  errors.push(
    ...duplicates(
      pveNodes,
      (n) => n.name,
      (n) => `${n.path}.name`,
      "name",
      "give each Proxmox node its own name",
    ),
  );
  errors.push(
    ...duplicates(
      vms,
      (v) => v.name,
      (v) => `${v.path}.name`,
      "hostname",
      "give each VM its own name",
    ),
  );
  errors.push(
    ...duplicates(
      vms,
      (v) => v.vmid,
      (v) => `${v.path}.vmid (${v.name})`,
      "VMID",
      "give each VM its own VMID",
    ),
  );
  errors.push(
    ...duplicates(
      vms,
      (v) => v.ip,
      (v) => `${v.path}.ip (${v.name})`,
      "address",
      "give each VM its own address",
    ),
  );

  if (cfg.images) {
    const images = cfg.images;
    for (const [name, image] of Object.entries(images)) {
      if (/\/(current|latest)\//.test(new URL(image.url).pathname)) {
        errors.push(
          `images.${name}.url: ${image.url} is a moving link: the file behind it changes and stops matching its checksum; use a dated release URL (e.g. .../releases/noble/release-20251213/...)`,
        );
      }
    }
    errors.push(
      ...duplicates(
        Object.keys(images),
        (n) => images[n].fileName,
        (n) => `images.${n}.fileName`,
        "file name",
        "give each image its own file name (they share the import storage)",
      ),
    );
  }

  for (const v of vms) {
    if (net && subnet) {
      if (v.ip === net.gateway) {
        errors.push(`${v.path}.ip (${v.name}): ${v.ip} is the gateway's address; pick a free address in ${subnet}`);
      } else if (notAHostOf(v.ip, subnet) !== undefined) {
        const fix = isInCidr(v.ip, subnet) ? "use one of its host addresses" : "use an address inside it";
        errors.push(`${v.path}.ip (${v.name}): ${v.ip} ${notAHostOf(v.ip, subnet)}; ${fix}`);
      }
    }
    const pve = pveAt(v.ip);
    if (pve !== undefined) errors.push(`${v.path}.ip (${v.name}): ${v.ip} is the address of ${pve}; give the VM a free address`);
  }

  // Roles and quorum: counts, so only over the whole list.
  if (cfg.nodes && !incompleteLists.has("nodes")) {
    const servers = cfg.nodes.filter((n) => n.role === "server");
    if (servers.length === 1) {
      warnings.push(`nodes: a single server has no control-plane redundancy; use 3 servers for HA embedded etcd`);
    } else if (servers.length > 0 && servers.length % 2 === 0) {
      errors.push(
        `nodes: ${servers.length} servers cannot keep embedded etcd quorum through a failure (an even count tolerates no more failures than one fewer); use ${servers.length + 1} or ${servers.length - 1} servers`,
      );
    }
  }
  if (cfg.storage && !cfg.storage.longhorn.enabled) {
    for (const v of vms) {
      if (v.dataDiskSize !== undefined) {
        errors.push(`${v.path}.dataDiskSize (${v.name}): a data disk is only for Longhorn; set storage.longhorn.enabled: true or remove dataDiskSize`);
      }
    }
  }
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
  const metallb = cfg.metallb;
  if (metallb?.enabled && metallb.range !== undefined) {
    try {
      range = parseRange(metallb.range);
    } catch (e) {
      errors.push(`metallb.range: ${(e as Error).message}; write it as first-last with first <= last`);
    }
    if (range) {
      if (subnet && (!isHostIn(range.first, subnet) || !isHostIn(range.last, subnet))) {
        errors.push(`metallb.range: ${metallb.range} is not inside the subnet ${subnet}; L2 mode announces only addresses of the VMs' subnet, so pick a range inside it`);
      }
      if (net && rangeContains(range, net.gateway)) {
        errors.push(`metallb.range: ${metallb.range} contains the gateway ${net.gateway}; move the range off the gateway`);
      }
      for (const v of vms) {
        if (rangeContains(range, v.ip)) {
          errors.push(`metallb.range: ${metallb.range} contains ${v.ip}, the address of ${where(v)}; move the range or the VM`);
        }
      }
      // Other hosts the config names on the LAN: MetalLB would answer ARP for them too.
      const hosts: [string, string][] = [
        ...pveNodes.map((n): [string, string] => [`Proxmox node ${n.name} (${n.path}.address)`, n.address]),
        ...(net?.dns ?? []).map((ip, i): [string, string] => [`network.dns[${i}]`, ip]),
        ...(cfg.storage?.nfs.enabled && cfg.storage.nfs.server !== undefined ? [["storage.nfs.server", cfg.storage.nfs.server] as [string, string]] : []),
        ...(cfg.storage?.nfs.enabled && cfg.storage.nfs.backupServer !== undefined ? [["storage.nfs.backupServer", cfg.storage.nfs.backupServer] as [string, string]] : []),
      ];
      for (const [key, ip] of hosts) {
        // Traefik pinned on a Proxmox node's address is reported as that (below), more to the point.
        if (ip === cfg.traefik?.loadBalancerIp && pveAt(ip) !== undefined) continue;
        if (ip !== net?.gateway && rangeContains(range, ip)) {
          errors.push(`metallb.range: ${metallb.range} contains ${ip}, the address of ${key}; move the range off it`);
        }
      }
    }
  }
  const traefikIp = cfg.traefik?.loadBalancerIp;
  if (traefikIp !== undefined) {
    if (metallb && !metallb.enabled) {
      errors.push(`traefik.loadBalancerIp: needs MetalLB to hand out the address; set metallb.enabled: true or remove traefik.loadBalancerIp`);
    } else if (range && !rangeContains(range, traefikIp)) {
      errors.push(`traefik.loadBalancerIp: ${traefikIp} is outside metallb.range ${metallb?.range}; pick an address inside the range`);
    }
    const pve = pveAt(traefikIp);
    if (pve !== undefined) errors.push(`traefik.loadBalancerIp: ${traefikIp} is the address of ${pve}; pick a free address inside metallb.range`);
    if (cfg.cluster && !cfg.cluster.traefik) {
      errors.push(`traefik.loadBalancerIp: cluster.traefik is false, so there is no Traefik to pin; remove it or set cluster.traefik: true`);
    }
  }
  const cluster = cfg.cluster;
  if (cluster?.apiVip !== undefined) {
    const vip = cluster.apiVip;
    const owner = vms.find((v) => v.ip === vip);
    if (owner) errors.push(`cluster.apiVip: ${vip} is the address of ${where(owner)}; a VIP must be a free address`);
    const pve = pveAt(vip);
    if (pve !== undefined) errors.push(`cluster.apiVip: ${vip} is the address of ${pve}; a VIP must be a free address`);
    if (range && rangeContains(range, vip)) errors.push(`cluster.apiVip: ${vip} lies in metallb.range; take it out of the pool`);
  }
  if (cluster && subnet) {
    for (const [key, c] of [
      ["cluster.clusterCidr", cluster.clusterCidr],
      ["cluster.serviceCidr", cluster.serviceCidr],
    ] as const) {
      if (isInCidr(networkOf(subnet), c) || isInCidr(networkOf(c), subnet)) {
        errors.push(`${key}: ${c} overlaps the VM subnet ${subnet}; pick a private range that does not`);
      }
    }
  }

  const v = cfg.versions;
  if (cfg.dns?.enabled) {
    // Cloudflare accepts 1 (automatic) or 60-86400 seconds.
    if (cfg.dns.ttl !== 1 && (cfg.dns.ttl < 60 || cfg.dns.ttl > 86_400)) {
      errors.push(`dns.ttl: ${cfg.dns.ttl} is not a TTL Cloudflare accepts; use 1 (automatic) or 60 to 86400 seconds`);
    }
    if (cfg.dns.proxied && traefikIp !== undefined && isPrivateIpv4(traefikIp)) {
      errors.push(`dns.proxied: Cloudflare's proxy cannot reach the private address ${traefikIp} (traefik.loadBalancerIp); set dns.proxied: false`);
    }
  }
  if (traefikIp !== undefined && metallb?.enabled && v?.metallb && versionBefore(v.metallb, [0, 14, 9])) {
    errors.push(`versions.metallb: ${v.metallb} does not read the metallb.io/loadBalancerIPs annotation that pins traefik.loadBalancerIp (added in 0.14.9); pin 0.14.9 or newer`);
  }
  if (cfg.storage?.nfs.backupServer !== undefined && cfg.storage.nfs.backupShare === undefined) {
    errors.push(`storage.nfs.backupServer: is the server of backupShare, which is not set; set storage.nfs.backupShare or remove backupServer`);
  }
  // Grafana's host is also a VM's name under the search domain: two records for one name.
  if (cfg.monitoring?.enabled && cfg.domain && net?.searchDomain !== undefined) {
    const grafana = `${cfg.monitoring.grafanaHost}.${cfg.domain}`;
    const vm = vms.find((m) => `${m.name}.${net.searchDomain}` === grafana);
    if (vm)
      errors.push(
        `monitoring.grafanaHost: ${grafana} is also the FQDN of ${where(vm)} (its name under network.searchDomain); set monitoring.grafanaHost to another label or rename the VM`,
      );
  }
  if (cfg.storage?.nfs.backupShare && !cfg.storage.nfs.enabled) {
    errors.push(`storage.nfs.backupShare: needs storage.nfs.enabled: true; enable NFS or remove backupShare`);
  }
  for (const lan of cfg.traefik?.lanAllowlist ?? []) {
    if (networkOf(lan) !== lan.split("/")[0]) {
      errors.push(`traefik.lanAllowlist: ${lan} has host bits set; use ${networkOf(lan)}/${parseCidr(lan).prefix}`);
    }
  }
  errors.push(...needing(DOMAIN_CHECK_KEYS, domainChecks)(cfg, incompleteLists));
  errors.push(...needing(["cluster"], k3sArgsChecks)(cfg, incompleteLists));
  errors.push(...needing(["network"], firewallChecks)(cfg, incompleteLists));
  errors.push(...needing(["storage"], truenasChecks)(cfg, incompleteLists));
  errors.push(...needing(["externalDns", "dns", "domain", "cluster"], externalDnsChecks)(cfg, incompleteLists));
  warnings.push(...needing(["traefik", "cluster", "apps", "proxmox", "network", "domains"], lanAllowlistWarnings)(cfg, incompleteLists));
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
  const secretValued = opts.secretValuedKeys ?? [];
  const plain: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(raw)) {
    // A plain key holding a secure: value is reported as such and otherwise left out: under
    // `pulumi up` its value arrives decrypted, and no message may quote it.
    if (!(SECRET_KEYS as readonly string[]).includes(k) && !secretValued.includes(k)) plain[k] = val;
  }
  if (Object.keys(raw).length === 0) {
    return {
      ok: false,
      errors: ["(config): the stack sets no homelab: key; a stack file lists them under its top-level config: key (see docs/config-reference.yaml)"],
      warnings: [],
    };
  }
  const secretSource: SecretSource<S> = {
    present: (k) => opts.secrets[k] === "secret",
    value: opts.secretValue ?? ((k) => k as S),
  };
  const parsed = parseConfig(plain);
  const errors = parsed.issues.filter((i) => !secretValued.includes(String(i.path[0]))).flatMap((i) => formatIssue(i, plain));
  const checked = crossCheck(parsed.config, parsed.incompleteLists);
  errors.push(...checked.errors);
  const resolved = resolveStack(parsed.config, secretSource);
  errors.push(...resolved.errors);
  errors.push(...checkSecrets(opts.secrets, secretValued));
  const warnings = [...checked.warnings];
  for (const check of opts.extraChecks ?? []) {
    const r = check(parsed.config, parsed.incompleteLists);
    if ("errors" in r) {
      errors.push(...r.errors);
      warnings.push(...r.warnings);
    } else errors.push(...r);
  }
  if (errors.length > 0 || resolved.model === undefined || !parsed.complete) return { ok: false, errors: unique(errors), warnings };
  return { ok: true, config: resolved.model, warnings };
}

/** Drops repeated errors, keeping the first of each in place (config order). */
function unique(errors: string[]): string[] {
  return [...new Set(errors)];
}
