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
 * A Namespace Pulumi creates but never deletes. It is a NamespacePatch (server-side apply): the
 * create applies the object whether or not it still exists, so re-enabling an app whose namespace
 * was kept adopts it instead of failing with AlreadyExists (pulumi-kubernetes `await.Creation`:
 * plain objects are created, Patch kinds are applied). `retainOnDelete`: removing it only drops
 * it from the state. The alias keeps the identity of stacks whose namespace was a plain Namespace,
 * which would otherwise be deleted and created anew.
 */
export function retainedNamespace(
  name: string,
  metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> },
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.NamespacePatch {
  return new k8s.core.v1.NamespacePatch(
    name,
    { metadata: { name: metadata.name, ...(metadata.labels ? { labels: { ...metadata.labels } } : {}) } },
    { ...opts, retainOnDelete: true, aliases: [...(opts.aliases ?? []), { type: "kubernetes:core/v1:Namespace" }] },
  );
}
