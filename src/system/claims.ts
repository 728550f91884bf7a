// The claims that hold data, created so that no edit deletes or replaces them (app claims, Loki's).
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { RETAINED_PATCH_ANNOTATIONS } from "./namespaces";

/**
 * A claim Pulumi creates but never deletes or replaces:
 * - a PersistentVolumeClaimPatch (server-side apply): re-enabling an app whose claim was kept adopts
 *   the claim and its data instead of failing with AlreadyExists (pulumi-kubernetes
 *   `await.Creation` creates plain objects, applies Patch kinds);
 * - `retainOnDelete`: disabling the app, moving it or `pulumi destroy` only drops the claim from the
 *   state (the data stays; delete the claim with kubectl once it is no longer wanted);
 * - `ignoreChanges: spec.storageClassName`: the class is immutable (pulumi-kubernetes
 *   `provider/diff.go` replaces a PVC on a new class; a Patch kind would be refused by the API).
 *   Enabling NFS or Longhorn later changes the class this program computes for `data` volumes;
 *   the existing claim stays where its data is (CLAIM_MIGRATION says how to move it);
 * - the alias keeps the identity of stacks whose claim was a plain PersistentVolumeClaim;
 * - one fixed, forced field manager (RETAINED_PATCH_ANNOTATIONS): a re-adopted or aliased claim
 *   grows without an apply conflict with its previous owner.
 * Its size may grow where the class allows expansion (nfs-client, longhorn); local-path and
 * chart-owned StatefulSet claims cannot grow (the API refuses).
 */
export function retainedClaim(
  name: string,
  manifest: { metadata: k8s.types.input.meta.v1.ObjectMetaPatch; spec: k8s.types.input.core.v1.PersistentVolumeClaimSpecPatch },
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.PersistentVolumeClaimPatch {
  const metadata = { ...manifest.metadata, annotations: { ...(manifest.metadata.annotations as Record<string, string> | undefined), ...RETAINED_PATCH_ANNOTATIONS } };
  return new k8s.core.v1.PersistentVolumeClaimPatch(
    name,
    { ...manifest, metadata },
    {
      ...opts,
      retainOnDelete: true,
      ignoreChanges: [...(opts.ignoreChanges ?? []), "spec.storageClassName"],
      aliases: [...(opts.aliases ?? []), { type: "kubernetes:core/v1:PersistentVolumeClaim" }],
    },
  );
}
