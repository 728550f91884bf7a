// The typed shape of a catalog app, and what the apps layer hands back to the stack.
import type * as pulumi from "@pulumi/pulumi";
import type { TemplateServiceRef } from "./appTemplateNames";

/**
 * What a volume holds, which decides its StorageClass (seed 003): `database` (PostgreSQL, Redis,
 * and apps whose state is SQLite, which must not live on NFS) on local-path; `data` (models,
 * uploads, documents) on NFS when enabled, else Longhorn, else local-path. Never emptyDir.
 */
export type StorageKind = "database" | "data";

/** Whether an app runs on the GPU node: never, only when the stack says `gpu: true`, or always. */
export type GpuMode = "none" | "optional" | "required";

/** Where the chart comes from: a Helm repository (HelmRepository) or an OCI artifact (OCIRepository). */
export type ChartSource = { readonly kind: "helm"; readonly url: string; readonly chart: string } | { readonly kind: "oci"; readonly url: string };

/**
 * Where an ingress sends its traffic. A chart of its own names its Service (`service`, `port`, as
 * that chart names it); an app-template app names the Service's identifier and port name in its
 * values (`appTemplate`), and the Service's name and port number follow from its final values the
 * way the chart names them (appTemplateBackend), never by hand.
 */
export type IngressTarget = { readonly service: string; readonly port: number } | { readonly appTemplate: TemplateServiceRef };

export interface VolumeDef {
  /** Volume key; the PVC is `<app>-<name>`. */
  readonly name: string;
  readonly kind: StorageKind;
  /** Default size in GiB; the stack's `storageSize` overrides the first volume's. */
  readonly size: number;
  /** Mount path in the app's container. */
  readonly mountPath: string;
  /**
   * Who claims the volume: the catalog (a PVC created before the release, passed as an existing
   * claim; default), or the chart's own StatefulSet volumeClaimTemplate (class and size passed in
   * values), for charts whose existing-claim support depends on the chart version.
   */
  readonly claimedBy?: "catalog" | "chart";
}

export interface SecretDef {
  /** Key in the app's Secret `<app>-secrets`. */
  readonly key: string;
  /** Generated length (letters and digits). */
  readonly length: number;
  /** Environment variable the main container reads it from (app-template apps). */
  readonly env?: string;
}

/** Everything the computed part of an app's values may depend on. */
export interface ValuesContext {
  readonly app: string;
  readonly namespace: string;
  /** Fully qualified ingress host, or undefined without ingress. */
  readonly host: string | undefined;
  /** Fully qualified host of the console ingress, or undefined. */
  readonly consoleHost: string | undefined;
  /** Per volume key: the PVC name (catalog-claimed), its StorageClass and size in GiB. */
  readonly volumes: Readonly<Record<string, { readonly claim: string; readonly storageClass: string; readonly size: number }>>;
  /** Name of the app's generated Secret (undefined when the app has none). */
  readonly secretName: string | undefined;
  /** Whether the app is scheduled on the GPU node. */
  readonly gpu: boolean;
  /** Pod CIDR of the cluster (trusted reverse proxies). */
  readonly clusterCidr: string;
  /** PVC of the shared media library, for apps that mount it. */
  readonly mediaClaim: string | undefined;
}

export interface AppDefinition {
  readonly name: string;
  readonly description: string;
  readonly source: ChartSource;
  /** Namespace unless the stack's entry says otherwise (seed 000: infrastructure, applications, ai). */
  readonly namespace: string;
  /** Service behind the ingress; undefined for apps reached only inside the cluster. */
  readonly ingress?: IngressTarget;
  /**
   * A second web interface (MinIO's console) on its own host, `<host>-console.<domain>`, published
   * whenever the main ingress is.
   */
  readonly consoleIngress?: IngressTarget;
  readonly volumes: readonly VolumeDef[];
  /** Mounts the namespace's shared media library (NFS, ReadWriteMany) at /media. */
  readonly mediaLibrary?: boolean;
  readonly gpu: GpuMode;
  readonly secrets: readonly SecretDef[];
  /** Extra Secret keys derived from the generated ones (e.g. a config file holding a password). */
  readonly derivedSecrets?: (generated: Readonly<Record<string, string>>) => Record<string, string>;
  /** A nightly pg_dumpall to the NFS backup share (seed 003). */
  readonly backup?: "pg_dump";
  /** Helm's install/upgrade timeout; GPU images are large. */
  readonly timeout: string;
  /** Values computed from the stack, merged over `apps/<name>/values.yaml`. */
  values(ctx: ValuesContext): Record<string, unknown>;
  /** The static values in place of `apps/<name>/values.yaml`: a custom app has no file. */
  readonly staticValues?: Readonly<Record<string, unknown>>;
}

/** What buildApps hands back. */
export interface Apps {
  /** Each enabled app's HelmRelease, by app name; ready once Flux reports the release Ready. */
  readonly releases: ReadonlyMap<string, pulumi.Resource>;
  /** https URL per app with an ingress. */
  readonly urls: Readonly<Record<string, string>>;
}
