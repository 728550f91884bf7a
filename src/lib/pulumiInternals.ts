// Every use of the Pulumi SDK's internals, in one place: the wire format's signature keys, the mock
// monitor the offline plan extends, the register-resource request's getters, and the config module's
// secret-key lookup. None of these are public API; test/pulumi-internals.test.ts fails loudly, naming
// the piece, when an SDK bump moves or renames one of them.
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

/** Signature keys of the SDK's wire format (runtime/rpc.ts: specialSigKey, specialSecretSig, ...). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
/** The value the SDK sends for an input that is not known yet (runtime/rpc.ts: unknownValue). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export { MockMonitor };

type Mocks = ConstructorParameters<typeof MockMonitor>[0];

/**
 * The SDK's MockMonitor, answering every registration with the URN the engine would record. Its
 * `newUrn` is private in the .d.ts, so it is replaced on the instance; registerResource and
 * readResource call it and hand its answer back to the SDK, so children get their parent's engine
 * URN and the whole chain is right.
 */
export class EngineUrnMockMonitor extends MockMonitor {
  constructor(mocks: Mocks) {
    super(mocks);
    (this as unknown as { newUrn: (p: string, t: string, n: string) => string }).newUrn = (parent, type, name) => this.urnFor(parent, type, name);
  }
  protected urnFor(parent: string, type: string, name: string): string {
    return engineUrn(pulumi.getStack(), pulumi.getProject(), parent, type, name);
  }
}

/** The Struct type of google-protobuf, as the SDK's generated messages use it. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const Struct = require("google-protobuf/google/protobuf/struct_pb").Struct as { fromJavaScript(obj: Record<string, unknown>): unknown };

// `isConfigSecret` is exported by the SDK's runtime/config module but missing from its .d.ts. It
// reads the same secret-key list the engine passes to `pulumi up` and that mocks set through
// `setAllConfig(config, secretKeys)`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };
export const isConfigSecret = (key: string): boolean => runtimeConfig.isConfigSecret(key);

/** An alias as the SDK sends it (proto/alias.proto): a whole URN, or a spec the engine completes. */
export type AliasRecord =
  | { readonly urn: string }
  | { readonly name: string; readonly type: string; readonly stack: string; readonly project: string; readonly parentUrn: string; readonly noParent: boolean };

/** The options of a RegisterResourceRequest that change what a diff means, read through its getters. */
export interface RequestOptions {
  readonly aliases: AliasRecord[];
  readonly replaceOnChanges: string[];
  readonly retainOnDelete: boolean;
  readonly deletedWith: string;
  readonly replaceWith: string[];
  readonly hideDiffs: string[];
}

/** The getters of the generated RegisterResourceRequest (proto/resource_pb.js) this module calls. */
export const REQUEST_GETTERS = [
  "getAliasesList",
  "getReplaceonchangesList",
  "getRetainondelete",
  "getDeletedwith",
  "getReplaceWithList",
  "getHidediffsList",
] as const;

interface AliasMessage {
  getUrn(): string;
  getSpec(): { getName(): string; getType(): string; getStack(): string; getProject(): string; getParenturn(): string; getNoparent(): boolean } | undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function requestOptions(req: any): RequestOptions {
  const aliases = (req.getAliasesList() as AliasMessage[]).map((a): AliasRecord => {
    const spec = a.getSpec();
    if (!spec) return { urn: a.getUrn() };
    return { name: spec.getName(), type: spec.getType(), stack: spec.getStack(), project: spec.getProject(), parentUrn: spec.getParenturn(), noParent: spec.getNoparent() };
  });
  return {
    aliases,
    replaceOnChanges: [...(req.getReplaceonchangesList() as string[])],
    retainOnDelete: req.getRetainondelete() === true,
    deletedWith: req.getDeletedwith() as string,
    replaceWith: [...(req.getReplaceWithList() as string[])],
    hideDiffs: [...(req.getHidediffsList() as string[])],
  };
}

/** The root resource's type: the engine leaves it out of every qualified type. */
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * The URN the engine records (sdk/go/common/resource/urn.go, `NewURN`): the qualified type is the
 * parent's whole qualified type, `$`, then the type, and the root stack is left out. (The SDK's
 * MockMonitor.newUrn keeps only the parent's last segment and prefixes top-level resources with the
 * stack type.)
 */
export function engineUrn(stack: string, project: string, parentUrn: string, type: string, name: string): string {
  return urnUnder(stack, project, parentUrn ? parentUrn.split("::")[2] : "", type, name);
}

/** `NewURN` itself: from the parent's qualified type ("" or the stack type for a top-level resource). */
export function urnUnder(stack: string, project: string, parentType: string, type: string, name: string): string {
  const qualified = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeState = require("@pulumi/pulumi/runtime/state") as { getStore(): { leakCandidates: Set<Promise<unknown>> } };
const resourceClass = pulumi.Resource as unknown as { callsites: () => unknown[] };

/**
 * Turns off, until the returned function is called, the two stack traces the SDK takes for the
 * engine's diagnostics, which an offline plan never shows (and was a quarter of a plan's time):
 * - `Resource.callsites` (resource.ts), every resource's source position and stack trace for the
 *   engine, taken with `Error.stackTraceLimit = Infinity` (so the plan's limit of 0 does not reach
 *   it) and parsed line by line. Without it a registration carries no source position, as a
 *   program without source maps does.
 * - `debuggablePromise` (runtime/debuggable.ts): on every SDK promise `new Error().stack` and three
 *   properties, read only by the leak report `pulumi up` prints at exit. The promise still goes
 *   into the leak candidates and leaves them when it settles, as in the SDK.
 */
export function withoutSdkTraces(): () => void {
  const callsites = resourceClass.callsites;
  const debuggablePromise = debuggable.debuggablePromise;
  resourceClass.callsites = () => [];
  debuggable.debuggablePromise = <T>(p: Promise<T>): Promise<T> => {
    const candidates = runtimeState.getStore().leakCandidates;
    candidates.add(p);
    return p.then(
      (value) => {
        candidates.delete(p);
        return value;
      },
      (err: unknown) => {
        candidates.delete(p);
        if (err !== null && typeof err === "object") (err as { promise?: unknown }).promise = p;
        throw err;
      },
    );
  };
  return () => {
    resourceClass.callsites = callsites;
    debuggable.debuggablePromise = debuggablePromise;
  };
}
