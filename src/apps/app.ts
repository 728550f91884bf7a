// CatalogApp: one enabled catalog app. Its generated passwords (RandomPassword, kept in a Secret
// the chart reads by reference), its claims (created here so the data outlives a Helm uninstall),
// the Flux source and HelmRelease, the Ingress of the convention, and PostgreSQL's backup job.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { RANDOM_ARGS } from "../cluster/k3sCluster";
import { renderIngress } from "../system/ingress";
import { renderPgDumpCronJob } from "./backupRender";
import { retainedClaim } from "./claims";
import { consoleIngressArgsFor, ingressArgsFor, renderHelmRelease, renderPvc, renderSource, type ResolvedApp } from "./render";

export const TYPE = "homelab:apps:CatalogApp";

export interface CatalogAppArgs {
  readonly app: ResolvedApp;
  /** HelmRelease reconcile interval (config flux.interval). */
  readonly interval: string;
  /** ClusterIssuer for a certificate of the ingress' own; undefined: Traefik's default (the wildcard) (System.ingressIssuer). */
  readonly clusterIssuer: string | undefined;
  /** The app's namespace (created once per namespace by the caller). */
  readonly namespace: pulumi.Resource;
  /** The namespace's shared media library, for apps that mount it. */
  readonly mediaLibrary?: pulumi.Resource;
  /** The system layer's readiness: its storage classes provision and ingress works (System.storageReady, ingressReady). */
  readonly systemReady: pulumi.Resource[];
  /** Flux's CRDs are established. */
  readonly fluxReady: pulumi.Resource[];
  /** The GPU node is ready (device plugin, smoke test); only for GPU apps. */
  readonly gpuReady: pulumi.Resource[];
  /** Created before the ingress: the forward-auth Middleware it names (Traefik refuses a router naming a missing one). Default none. */
  readonly ingressAfter?: pulumi.Resource[];
  /** NFS server and backup share for PostgreSQL's pg_dump job; undefined: no backup job. */
  readonly backup?: { readonly server: string; readonly share: string };
}

/** Pulumi's wait for a HelmRelease: Helm's own timeout plus room for Flux to fetch the chart. */
export function releaseTimeout(helmTimeout: string): string {
  const m = /^(\d+)m$/.exec(helmTimeout);
  if (!m) throw new Error(`timeout ${helmTimeout}: expected minutes such as 10m`);
  return `${Number(m[1]) + 10}m`;
}

export class CatalogApp extends pulumi.ComponentResource {
  public readonly secret: k8s.core.v1.Secret | undefined;
  public readonly claims: k8s.core.v1.PersistentVolumeClaimPatch[];
  public readonly source: k8s.apiextensions.CustomResource;
  public readonly release: k8s.apiextensions.CustomResource;
  public readonly ingress: k8s.networking.v1.Ingress | undefined;
  /** The console's Ingress (MinIO), or undefined. */
  public readonly consoleIngress: k8s.networking.v1.Ingress | undefined;
  public readonly backup: k8s.batch.v1.CronJob | undefined;
  /** https URL of the ingress, or undefined. */
  public readonly url: string | undefined;

  constructor(name: string, args: CatalogAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const { app } = args;
    const inNamespace = [args.namespace, ...args.systemReady];

    if (app.secretName !== undefined) {
      const generated: Record<string, pulumi.Output<string>> = {};
      for (const s of app.def.secrets) {
        // Kept as generated (or imported: RANDOM_ARGS), whatever its arguments become.
        generated[s.key] = new random.RandomPassword(`${name}-${s.key}`, { length: s.length, special: false }, { parent: this, ignoreChanges: RANDOM_ARGS }).result;
      }
      const derive = app.def.derivedSecrets;
      const stringData = pulumi.all(generated).apply((values) => ({ ...values, ...(derive ? derive(values) : {}) }));
      this.secret = new k8s.core.v1.Secret(
        `${name}-secrets`,
        { metadata: { name: app.secretName, namespace: app.namespace }, type: "Opaque", stringData: pulumi.secret(stringData) },
        { parent: this, dependsOn: inNamespace },
      );
    }

    this.claims = app.volumes.filter((v) => v.claimedBy === "catalog").map((v) => retainedClaim(`${name}-${v.name}`, renderPvc(app, v), { parent: this, dependsOn: inNamespace }));

    this.source = new k8s.apiextensions.CustomResource(`${name}-source`, renderSource(app), {
      parent: this,
      dependsOn: [args.namespace, ...args.fluxReady],
    });

    const timeout = releaseTimeout(app.def.timeout);
    this.release = new k8s.apiextensions.CustomResource(
      `${name}-release`,
      // Pulumi's generic await: the release counts as created once Flux reports it Ready.
      renderHelmRelease(app, args.interval, { "pulumi.com/waitFor": "condition=Ready" }),
      {
        parent: this,
        dependsOn: [
          this.source,
          ...(this.secret ? [this.secret] : []),
          ...this.claims,
          ...(args.mediaLibrary ? [args.mediaLibrary] : []),
          ...args.systemReady,
          ...(app.gpu ? args.gpuReady : []),
        ],
        // Pulling images (GPU images are several GB) and starting the app takes minutes.
        customTimeouts: { create: timeout, update: timeout },
      },
    );

    const ingress = (suffix: string, ingressArgs: ReturnType<typeof ingressArgsFor>) => {
      if (ingressArgs === undefined) return undefined;
      const manifest = renderIngress(ingressArgs);
      return new k8s.networking.v1.Ingress(
        `${name}-${suffix}`,
        { metadata: manifest.metadata, spec: manifest.spec },
        // After the release: Pulumi's Ingress await wants the backend Service to have endpoints.
        { parent: this, dependsOn: [this.release, ...args.systemReady, ...(args.ingressAfter ?? [])] },
      );
    };
    this.ingress = ingress("ingress", ingressArgsFor(app, args.clusterIssuer));
    this.consoleIngress = ingress("console-ingress", consoleIngressArgsFor(app, args.clusterIssuer));
    this.url = app.host === undefined ? undefined : `https://${app.host}`;

    if (app.def.backup === "pg_dump" && args.backup !== undefined && app.secretName !== undefined) {
      this.backup = new k8s.batch.v1.CronJob(
        `${name}-backup`,
        renderPgDumpCronJob({
          name: `${app.name}-backup`,
          namespace: app.namespace,
          image: containerImage(app),
          host: `${app.name}.${app.namespace}.svc.cluster.local`,
          passwordSecret: app.secretName,
          passwordKey: "password",
          nfsServer: args.backup.server,
          backupShare: args.backup.share,
        }),
        { parent: this, dependsOn: [this.release] },
      );
    }

    this.registerOutputs({ url: this.url, release: this.release.metadata.name });
  }
}

/** `repository:tag` of an app-template app's main container (the backup job runs the same image). */
export function containerImage(app: ResolvedApp): string {
  const image = (app.values as { controllers?: { main?: { containers?: { main?: { image?: { repository?: string; tag?: string } } } } } }).controllers?.main?.containers?.main
    ?.image;
  if (!image?.repository || !image.tag) throw new Error(`apps.${app.name}: values set no controllers.main.containers.main.image`);
  return `${image.repository}:${image.tag}`;
}
