// The ingress convention (seed 003), as the one helper every app ingress goes through: TLS with a
// certificate from the stack's ClusterIssuer, Traefik as the class, and the HTTP->HTTPS redirect
// middleware (plus the LAN allow-list when asked).
import { LAN_ONLY_MIDDLEWARE, middlewareRef, REDIRECT_MIDDLEWARE } from "./conventions";

export interface IngressArgs {
  /** Ingress (and TLS secret prefix) name. */
  readonly name: string;
  readonly namespace: string;
  /** Fully qualified host, e.g. grafana.lab.example.com */
  readonly host: string;
  readonly serviceName: string;
  readonly servicePort: number | string;
  /** ClusterIssuer name (letsencrypt-staging or letsencrypt-prod). */
  readonly clusterIssuer: string;
  /** Also allow only LAN clients (the lan-only middleware). Default false. */
  readonly lanOnly?: boolean;
  readonly path?: string;
}

/** The annotations of the convention (for charts that render their own Ingress from values). */
export function ingressAnnotations(args: Pick<IngressArgs, "clusterIssuer" | "lanOnly">): Record<string, string> {
  const middlewares = [middlewareRef(REDIRECT_MIDDLEWARE), ...(args.lanOnly ? [middlewareRef(LAN_ONLY_MIDDLEWARE)] : [])];
  return {
    "cert-manager.io/cluster-issuer": args.clusterIssuer,
    "traefik.ingress.kubernetes.io/router.middlewares": middlewares.join(","),
  };
}

/** A networking.k8s.io/v1 Ingress manifest following the convention exactly. Pure. */
export function renderIngress(args: IngressArgs) {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: args.name, namespace: args.namespace, annotations: ingressAnnotations(args) },
    spec: {
      ingressClassName: "traefik",
      tls: [{ hosts: [args.host], secretName: `${args.name}-tls` }],
      rules: [
        {
          host: args.host,
          http: {
            paths: [
              {
                path: args.path ?? "/",
                pathType: "Prefix",
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
