// A mock resource monitor that records every registration as the engine would see it: type, name,
// parent, dependencies, options and inputs (secrets masked), and answers with deterministic
// outputs. Used by `npm run plan` and by the tests.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { EngineUrnMockMonitor, requestOptions, RESOURCE_SIG, ROOT_STACK_TYPE, SECRET_SIG, SIG_KEY, Struct, UNKNOWN, type AliasRecord } from "../lib/pulumiInternals";

export const SECRET_MASK = "[secret]";
export const UNKNOWN_MASK = "[unknown]";

export interface RecordedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string | null;
  readonly custom: boolean;
  /** dependsOn plus the resources whose outputs feed the inputs (the engine's view). */
  readonly dependencies: string[];
  /**
   * Per top-level input, the resources whose outputs feed it. The engine uses these (not
   * dependsOn) to decide whether replacing a dependency forces this resource's replacement.
   */
  readonly propertyDependencies: Record<string, string[]>;
  readonly protect: boolean;
  readonly deleteBeforeReplace: boolean;
  readonly ignoreChanges: string[];
  /** Aliases as sent: whole URNs, or specs the engine completes against the resource's own identity. */
  readonly aliases: AliasRecord[];
  readonly replaceOnChanges: string[];
  /** A delete leaves the object where it is and only drops it from the state. */
  readonly retainOnDelete: boolean;
  /** URN of the resource whose delete takes this one with it ("" for none). */
  readonly deletedWith: string;
  /** URNs whose replacement replaces this one. */
  readonly replaceWith: string[];
  readonly hideDiffs: string[];
  readonly additionalSecretOutputs: string[];
  /** Provider reference (`urn::id`), if any. */
  readonly provider: string;
  /** Inputs with secrets replaced by "[secret]". */
  readonly inputs: Record<string, unknown>;
  /** Inputs with secret values kept (for tests that must check a secret reaches the right place). */
  readonly rawInputs: Record<string, unknown>;
  /** Paths of inputs that are secret. */
  readonly secretPaths: string[];
  /** Per secret path, a digest of the value with every secret cut out (src/plan/secrets.ts); filled after the run. */
  readonly secretDigests: Record<string, string>;
  /** The `secure:` config keys whose value reaches the inputs; filled after the run. */
  readonly secretConfig: string[];
  /** Values of the outputs the engine returns as secrets (additionalSecretOutputs), as the mock computed them. */
  readonly secretOutputValues: unknown[];
}

/** Replaces secret values by "[secret]" and unknowns by "[unknown]" in a wire-format value. */
export function maskSecrets(value: unknown, path = "", secretPaths?: string[]): unknown {
  if (value === UNKNOWN) return UNKNOWN_MASK;
  if (Array.isArray(value)) return value.map((v, i) => maskSecrets(v, `${path}[${i}]`, secretPaths));
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SIG_KEY] === SECRET_SIG) {
      secretPaths?.push(path);
      return SECRET_MASK;
    }
    if (obj[SIG_KEY] === RESOURCE_SIG) return { urn: obj.urn };
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(obj)) out[k] = maskSecrets(obj[k], path === "" ? k : `${path}.${k}`, secretPaths);
    return out;
  }
  return value;
}

/** Strips the secret wrappers but keeps the values. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SIG_KEY] === SECRET_SIG) return unwrapSecrets(obj.value);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(obj)) out[k] = unwrapSecrets(obj[k]);
    return out;
  }
  return value;
}

/** A short deterministic hex digest, for fake ids and MAC addresses. */
export function digest(text: string, length = 12): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

function fakeMac(name: string): string {
  const h = digest(name, 10);
  return `bc:24:11:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`.toUpperCase();
}

/** What k3s writes to /etc/rancher/k3s/k3s.yaml (fake credentials), for steps that read it. */
export function planKubeconfig(name: string): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return [
    "apiVersion: v1",
    "clusters:",
    "- cluster:",
    `    certificate-authority-data: ${b64(`plan-ca-${digest(name)}`)}`,
    "    server: https://127.0.0.1:6443",
    "  name: default",
    "contexts:",
    "- context:",
    "    cluster: default",
    "    user: default",
    "  name: default",
    "current-context: default",
    "kind: Config",
    "preferences: {}",
    "users:",
    "- name: default",
    "  user:",
    `    client-certificate-data: ${b64(`plan-cert-${digest(name)}`)}`,
    `    client-key-data: ${b64(`plan-key-${digest(name)}`)}`,
    "",
  ].join("\n");
}

/**
 * Deterministic outputs a real provider would compute, per resource type. Everything else echoes
 * the inputs. Tests may pass overrides per type.
 */
export type OutputSynth = (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;

export const DEFAULT_SYNTH: Record<string, OutputSynth> = {
  // As the provider reads a running VM: each NIC with the MAC Proxmox gave it, and what the guest
  // agent reports per guest interface (lo first).
  "proxmoxve:index/vmLegacy:VmLegacy": (a) => ({
    networkDevices: ((a.inputs.networkDevices ?? []) as Record<string, unknown>[]).map((d, i) => ({ ...d, macAddress: fakeMac(`${a.name}-net${i}`) })),
    macAddresses: ["00:00:00:00:00:00", fakeMac(`${a.name}-net0`)],
    networkInterfaceNames: ["lo", "eth0"],
    ipv4Addresses: [["127.0.0.1"], [String(a.inputs.initialization?.ipConfigs?.[0]?.ipv4?.address ?? "").split("/")[0]]],
  }),
  "proxmoxve:download/file:File": (a) => ({
    id: `${a.inputs.datastoreId}:import/${a.inputs.fileName}`,
    size: 600_000_000,
  }),
  "proxmoxve:index/fileLegacy:FileLegacy": (a) => ({
    id: `${a.inputs.datastoreId}:snippets/${a.inputs.sourceRaw?.fileName ?? a.name}`,
  }),
  "command:remote:Command": (a) => ({ stdout: a.name.endsWith("-kubeconfig") ? planKubeconfig(a.name) : `plan-stdout-${a.name}`, stderr: "" }),
  "random:index/randomPassword:RandomPassword": (a) => ({ result: `plan-random-${digest(a.name, 16)}` }),
  "random:index/randomBytes:RandomBytes": (a) => ({ hex: digest(a.name, 64), base64: Buffer.from(digest(a.name, 32)).toString("base64") }),
  "tls:index/privateKey:PrivateKey": (a) => ({
    // Obviously a stand-in (V13): still an OpenSSH line of the right shape, but it reads as fake.
    publicKeyOpenssh: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPLANxSTANDxINxNOTxAxREALxKEY${digest(a.name, 15)} plan-stand-in-NOT-A-REAL-KEY`,
    privateKeyOpenssh: `-----BEGIN OPENSSH PRIVATE KEY-----\nplan-${digest(a.name)}\n-----END OPENSSH PRIVATE KEY-----\n`,
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\nplan-${digest(a.name)}\n-----END PRIVATE KEY-----\n`,
    publicKeyPem: `-----BEGIN PUBLIC KEY-----\nplan-${digest(a.name)}\n-----END PUBLIC KEY-----\n`,
  }),
  "tls:index/selfSignedCert:SelfSignedCert": (a) => ({
    certPem: `-----BEGIN CERTIFICATE-----\nplan-${digest(a.name)}\n-----END CERTIFICATE-----\n`,
  }),
};

export interface RecorderOptions {
  /** Extra or replacement output synthesizers by type. */
  readonly synth?: Record<string, OutputSynth>;
  /** Invoke results by token; any other invoke throws. */
  readonly invokes?: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>;
}

function mocksFor(opts: RecorderOptions): pulumi.runtime.Mocks {
  const synth = { ...DEFAULT_SYNTH, ...(opts.synth ?? {}) };
  return {
    newResource(args) {
      const extra = synth[args.type]?.(args) ?? {};
      const id = typeof extra.id === "string" ? extra.id : `${args.name}-id`;
      return { id, state: { ...args.inputs, ...extra } };
    },
    call(args) {
      const handler = opts.invokes?.[args.token];
      if (!handler) throw new Error(`unmocked invoke ${args.token}: the program must not call provider functions at plan time`);
      return handler(args.inputs);
    },
  };
}

/** Wraps a serialized value as a secret on the wire. */
function wrapSecret(value: unknown): unknown {
  return { [SIG_KEY]: SECRET_SIG, value };
}

/**
 * The engine's name for a package's default provider: `default_<major>_<minor>_<patch>` (plus
 * `_<pre>`/`_<build>` parts), then `_` and the plugin download URL as a QName when the package has
 * one (pulumi/pulumi v3.248.0 pkg/resource/deploy/providers/provider.go `DefaultName`, lines
 * 105-140; `tokens.IntoQName`, sdk/go/common/tokens/names.go:71: every character outside
 * `[A-Za-z0-9_.-]` of each `/`-separated part becomes `_`, empty parts are dropped).
 */
export function defaultProviderName(version: string, pluginDownloadURL: string): string {
  let name = "default";
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([^+]+))?(?:\+(.+))?$/.exec(version);
  if (m) {
    name += `_${m[1]}_${m[2]}_${m[3]}`;
    for (const pre of m[4]?.split(".") ?? []) name += `_${pre}`;
    for (const build of m[5]?.split(".") ?? []) name += `_${build}`;
  }
  if (pluginDownloadURL) {
    const q = pluginDownloadURL
      .split("/")
      .filter((x) => x !== "")
      .map((x) => x.replace(/[^A-Za-z0-9_.-]/g, "_"))
      .join("/");
    name += `_${q || "_"}`;
  }
  return name;
}

export class RecordingMonitor extends EngineUrnMockMonitor {
  public readonly records: RecordedResource[] = [];
  /**
   * Per package, the default providers the engine would register for the custom resources that
   * name no provider (not registered under mocks): a package bump shows in the diff as a new one.
   */
  public readonly defaultProviders: Record<string, string[]> = {};
  public stackOutputs: Record<string, unknown> = {};
  public rawStackOutputs: Record<string, unknown> = {};
  private rootUrn: string | undefined;

  constructor(opts: RecorderOptions = {}) {
    super(mocksFor(opts));
  }

  public override async registerResource(req: any, callback: (err: any, resp: any) => void): Promise<void> {
    const rawInputs = req.getObject().toJavaScript() as Record<string, unknown>;
    const secretPaths: string[] = [];
    const inputs = maskSecrets(rawInputs, "", secretPaths) as Record<string, unknown>;
    const urn = this.urnFor(req.getParent(), req.getType(), req.getName());
    if (req.getType() === ROOT_STACK_TYPE) this.rootUrn = urn;
    if (req.getCustom() && !req.getProvider() && !req.getType().startsWith("pulumi:providers:")) {
      const pkg = req.getType().split(":")[0];
      const names = new Set(this.defaultProviders[pkg] ?? []).add(defaultProviderName(req.getVersion(), req.getPlugindownloadurl()));
      this.defaultProviders[pkg] = [...names].sort();
    }
    const secretOutputValues: unknown[] = [];
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps: { getUrnsList(): string[] }, key: string) => {
      propertyDependencies[key] = [...new Set(deps.getUrnsList())].sort();
    });
    this.records.push({
      urn,
      type: req.getType(),
      name: req.getName(),
      parent: req.getParent() || null,
      custom: req.getCustom(),
      dependencies: [...new Set<string>(req.getDependenciesList())].sort(),
      propertyDependencies,
      protect: req.getProtect() === true,
      deleteBeforeReplace: req.getDeletebeforereplace() === true,
      ignoreChanges: req.getIgnorechangesList(),
      ...requestOptions(req),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      provider: req.getProvider(),
      inputs,
      rawInputs: unwrapSecrets(rawInputs) as Record<string, unknown>,
      secretPaths,
      secretDigests: {},
      secretConfig: [],
      secretOutputValues,
    });
    // Emulate the engine: outputs listed in additionalSecretOutputs come back as secrets.
    const secretOuts: string[] = req.getAdditionalsecretoutputsList();
    await super.registerResource(req, (err: any, resp: any) => {
      if (!err && resp && secretOuts.length > 0) {
        const obj = resp.getObject().toJavaScript() as Record<string, unknown>;
        for (const k of secretOuts) {
          if (!(k in obj)) continue;
          secretOutputValues.push(unwrapSecrets(obj[k]));
          if (!isSecretWire(obj[k])) obj[k] = wrapSecret(obj[k]);
        }
        resp.setObject(Struct.fromJavaScript(obj));
      }
      callback(err, resp);
    });
  }

  public override registerResourceOutputs(req: any, callback: (err: any, resp: any) => void): void {
    if (req.getUrn() === this.rootUrn) {
      const outs = (req.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>;
      this.stackOutputs = maskSecrets(outs) as Record<string, unknown>;
      this.rawStackOutputs = unwrapSecrets(outs) as Record<string, unknown>;
    }
    super.registerResourceOutputs(req, callback);
  }
}

function isSecretWire(v: unknown): boolean {
  return v !== null && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}
