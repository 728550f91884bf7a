// The ingress convention (seed 003), as the one helper every app ingress goes through: TLS with a
// certificate from the stack's ClusterIssuer, Traefik as the class, and the HTTP->HTTPS redirect
// middleware (plus the LAN allow-list when asked). Without cert-manager (no issuer) the ingress
// still terminates TLS, with Traefik's default certificate.
import { LAN_ONLY_MIDDLEWARE, middlewareRef, REDIRECT_MIDDLEWARE } from "./conventions";

export interface IngressArgs {
  /** Ingress (and TLS secret prefix) name. */
  readonly name: string;
  readonly namespace: string;
  /** Fully qualified host, e.g. grafana.lab.example.com */
  readonly host: string;
  readonly serviceName: string;
  readonly servicePort: number | string;
  /** ClusterIssuer name (letsencrypt-staging or letsencrypt-prod); undefined without cert-manager (System.clusterIssuer). */
  readonly clusterIssuer: string | undefined;
  /** Also allow only LAN clients (the lan-only middleware). Default false. */
  readonly lanOnly?: boolean;
  readonly path?: string;
}

/** The annotations of the convention (for charts that render their own Ingress from values). */
export function ingressAnnotations(args: Pick<IngressArgs, "clusterIssuer" | "lanOnly">): Record<string, string> {
  const middlewares = [middlewareRef(REDIRECT_MIDDLEWARE), ...(args.lanOnly ? [middlewareRef(LAN_ONLY_MIDDLEWARE)] : [])];
  return {
    ...(args.clusterIssuer !== undefined ? { "cert-manager.io/cluster-issuer": args.clusterIssuer } : {}),
    "traefik.ingress.kubernetes.io/router.middlewares": middlewares.join(","),
  };
}

/**
 * The `tls` entry of the convention: cert-manager writes the certificate to `<name>-tls`. Without
 * an issuer nothing would ever write that Secret, so the entry names no Secret and Traefik serves
 * its default certificate.
 */
export function ingressTls(args: Pick<IngressArgs, "name" | "host" | "clusterIssuer">): { hosts: string[]; secretName?: string } {
  return args.clusterIssuer !== undefined ? { hosts: [args.host], secretName: `${args.name}-tls` } : { hosts: [args.host] };
}

/** A networking.k8s.io/v1 Ingress manifest following the convention exactly. Pure. */
export function renderIngress(args: IngressArgs) {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: args.name, namespace: args.namespace, annotations: ingressAnnotations(args) },
    spec: {
      ingressClassName: "traefik",
      tls: [ingressTls(args)],
      rules: [
        {
          host: args.host,
          http: {
            paths: [
              {
                path: args.path ?? "/",
                pathType: "Prefix" as const,
                backend: {
                  service: {
                    name: args.serviceName,
                    port: typeof args.servicePort === "number" ? { number: args.servicePort } : { name: args.servicePort },
                  },
                },
              },
            ],
          },
        },
      ],
    },
  };
}
