// Namespaces that hold data (app claims, Prometheus' volume). Deleting a Namespace deletes every
// claim in it, and k3s's local-path class then removes the volume's directory (reclaimPolicy
// Delete): an ordinary edit (disabling the last app of a namespace, moving an app, turning
// monitoring off, `pulumi destroy`) would erase the data. So these namespaces are never deleted by
// Pulumi, and are created in a way that survives their own retention.
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/** What the retention means for the user, for plan warnings and READMEs. */
export const RETAINED_NAMESPACE_CLEANUP =
  "Pulumi never deletes it (it would take every claim with it): delete it with `kubectl delete namespace <name>` once its data is no longer wanted";

/**
 * The field manager and force of every retained Patch object (these namespaces, the claims of
 * src/system/claims.ts), which this program alone is meant to own. Without them each Patch
 * resource applies as a fresh random manager without force, so an object it re-adopts (a kept
 * claim or namespace when its app is enabled again) keeps the previous resource's manager as a
 * co-owner, and an object aliased from a plain kind keeps `pulumi-kubernetes` (client-side create
 * since v4.29.0; Patch kinds skip fixCSAFieldManagers): the first change of a shared field (a
 * claim's size, a label) then fails with an apply conflict after a preview that passed.
 * pulumi-kubernetes v4.32.0: provider/pkg/metadata/annotations.go:38-39 (`pulumi.com/patchForce`,
 * `pulumi.com/patchFieldManager`); provider/pkg/provider/provider.go:2892 (`fieldManagerName`: the
 * annotation wins over the state's and a random name); provider/pkg/await/await.go:1031-1033
 * (`patchForce`: the annotation "true" forces every apply, preview and update).
 */
export const RETAINED_PATCH_ANNOTATIONS: Readonly<Record<string, string>> = {
  "pulumi.com/patchFieldManager": "homelab-infra",
  "pulumi.com/patchForce": "true",
};

/**
 * A Namespace Pulumi creates but never deletes. It is a NamespacePatch (server-side apply): the
 * create applies the object whether or not it still exists, so re-enabling an app whose namespace
 * was kept adopts it instead of failing with AlreadyExists (pulumi-kubernetes `await.Creation`:
 * plain objects are created, Patch kinds are applied). `retainOnDelete`: removing it only drops
 * it from the state. The alias keeps the identity of stacks whose namespace was a plain Namespace,
 * which would otherwise be deleted and created anew. Its field manager is fixed and forced
 * (RETAINED_PATCH_ANNOTATIONS).
 */
export function retainedNamespace(
  name: string,
  metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> },
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.NamespacePatch {
  return new k8s.core.v1.NamespacePatch(
    name,
    { metadata: { name: metadata.name, annotations: { ...RETAINED_PATCH_ANNOTATIONS }, ...(metadata.labels ? { labels: { ...metadata.labels } } : {}) } },
    { ...opts, retainOnDelete: true, aliases: [...(opts.aliases ?? []), { type: "kubernetes:core/v1:Namespace" }] },
  );
}
