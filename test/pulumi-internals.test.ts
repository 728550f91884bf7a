// The SDK internals the offline plan relies on (src/lib/pulumiInternals.ts). None is public API:
// when an SDK bump moves one, this test names it, instead of plans that silently lose secrets,
// options or URNs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as internals from "../src/lib/pulumiInternals";

/* eslint-disable @typescript-eslint/no-require-imports */
const rpc = require("@pulumi/pulumi/runtime/rpc") as Record<string, unknown>;
const resourcePb = require("@pulumi/pulumi/proto/resource_pb") as { RegisterResourceRequest: { prototype: Record<string, unknown> } };
const aliasPb = require("@pulumi/pulumi/proto/alias_pb") as { Alias: { prototype: Record<string, unknown>; Spec: { prototype: Record<string, unknown> } } };
const config = require("@pulumi/pulumi/runtime/config") as Record<string, unknown>;

describe("Pulumi SDK internals", () => {
  test("the wire format's signature keys are the SDK's", () => {
    assert.equal(rpc.specialSigKey, internals.SIG_KEY, "runtime/rpc specialSigKey moved: update SIG_KEY");
    assert.equal(rpc.specialSecretSig, internals.SECRET_SIG, "runtime/rpc specialSecretSig moved: update SECRET_SIG");
    assert.equal(rpc.specialResourceSig, internals.RESOURCE_SIG, "runtime/rpc specialResourceSig moved: update RESOURCE_SIG");
    assert.equal(rpc.unknownValue, internals.UNKNOWN, "runtime/rpc unknownValue moved: update UNKNOWN");
  });
  test("MockMonitor still builds URNs in newUrn and answers registrations with them", () => {
    const proto = internals.MockMonitor.prototype as unknown as Record<string, unknown>;
    assert.equal(typeof proto.newUrn, "function", "MockMonitor.newUrn is gone: EngineUrnMockMonitor cannot give engine URNs");
    for (const m of ["registerResource", "readResource"]) {
      assert.match(String(proto[m]), /this\.newUrn\(/, `MockMonitor.${m} no longer calls newUrn: EngineUrnMockMonitor cannot give engine URNs`);
    }
    assert.equal(typeof internals.Struct.fromJavaScript, "function", "google-protobuf Struct.fromJavaScript is gone");
  });
  test("the register request's getters and the alias messages are there", () => {
    for (const g of [
      ...internals.REQUEST_GETTERS,
      "getPropertydependenciesMap",
      "getProtect",
      "getDeletebeforereplace",
      "getIgnorechangesList",
      "getAdditionalsecretoutputsList",
    ]) {
      assert.equal(typeof resourcePb.RegisterResourceRequest.prototype[g], "function", `RegisterResourceRequest.${g} is gone: the plan would lose an option`);
    }
    for (const g of ["getUrn", "getSpec"]) assert.equal(typeof aliasPb.Alias.prototype[g], "function", `Alias.${g} is gone`);
    for (const g of ["getName", "getType", "getStack", "getProject", "getParenturn", "getNoparent"])
      assert.equal(typeof aliasPb.Alias.Spec.prototype[g], "function", `Alias.Spec.${g} is gone`);
  });
  test("runtime/config still exports isConfigSecret", () => {
    assert.equal(typeof config.isConfigSecret, "function", "runtime/config isConfigSecret is gone: secret config keys cannot be told from plain ones");
  });
  test("withoutSdkTraces: no callsites, leak candidates kept as the SDK keeps them, and both functions restored", async () => {
    const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T> };
    const state = require("@pulumi/pulumi/runtime/state") as { getStore(): { leakCandidates: Set<Promise<unknown>> } };
    const resource = pulumi.Resource as unknown as { callsites(): unknown[] };
    const originals = [resource.callsites, debuggable.debuggablePromise];
    assert.ok(resource.callsites().length > 0, "the SDK's callsites() gives this stack");
    // The SDK calls it through the module object (debuggable_1.debuggablePromise(...)), so replacing the export reaches every caller.
    assert.match(String(require("@pulumi/pulumi/runtime/resource").registerResource), /debuggable_1\.debuggablePromise\(/);
    const restore = internals.withoutSdkTraces();
    try {
      assert.deepEqual(resource.callsites(), []);
      const candidates = state.getStore().leakCandidates;
      let settle!: (v: string) => void;
      const p = new Promise<string>((r) => (settle = r));
      const tracked = debuggable.debuggablePromise(p, "ctx");
      assert.ok(candidates.has(p), "a pending promise is a leak candidate");
      assert.equal(Object.getOwnPropertyDescriptor(p, "_debugStackTrace"), undefined, "no stack trace taken");
      settle("v");
      assert.equal(await tracked, "v");
      assert.ok(!candidates.has(p), "a settled one is not");
      const failing = Promise.reject(new Error("boom"));
      const err = await debuggable.debuggablePromise(failing, "ctx").then(
        () => assert.fail("resolved"),
        (e: Error & { promise?: unknown }) => e,
      );
      assert.equal(err.promise, failing, "a rejection names its promise, as the SDK's does");
      assert.ok(!candidates.has(failing));
    } finally {
      restore();
    }
    assert.deepEqual([resource.callsites, debuggable.debuggablePromise], originals);
  });
  test("engine URNs: the whole ancestor chain, no stack prefix", () => {
    const stackUrn = "urn:pulumi:lab::homelab::pulumi:pulumi:Stack::homelab-lab";
    assert.equal(internals.engineUrn("lab", "homelab", "", "pulumi:pulumi:Stack", "homelab-lab"), stackUrn);
    const comp = internals.engineUrn("lab", "homelab", stackUrn, "homelab:cluster:GpuNode", "gpu");
    assert.equal(comp, "urn:pulumi:lab::homelab::homelab:cluster:GpuNode::gpu");
    const vm = internals.engineUrn("lab", "homelab", internals.engineUrn("lab", "homelab", comp, "homelab:metal:ProxmoxVm", "gpu"), "proxmoxve:index/vmLegacy:VmLegacy", "gpu-vm");
    assert.equal(vm, "urn:pulumi:lab::homelab::homelab:cluster:GpuNode$homelab:metal:ProxmoxVm$proxmoxve:index/vmLegacy:VmLegacy::gpu-vm");
  });
});
