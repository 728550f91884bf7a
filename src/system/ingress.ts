// The ingress convention (seed 003), as the one helper every app ingress goes through: TLS, Traefik as
// the class, and the LAN allow-list when asked. HTTP is redirected to HTTPS by Traefik's web entry
// point for every router (values.ts), so no ingress names a redirect middleware. The certificate is
// the wildcard one when the stack has it (Traefik's default TLS store serves it to every host under
// the domain, so no ingress orders one of its own), else one per ingress from the ClusterIssuer;
// without cert-manager Traefik serves its own default certificate.
import { LAN_ONLY_MIDDLEWARE, middlewareRef } from "./conventions";

export interface IngressArgs {
  /** Ingress (and TLS secret prefix) name. */
  readonly name: string;
  readonly namespace: string;
  /** Fully qualified host, e.g. grafana.lab.example.com */
  readonly host: string;
  readonly serviceName: string;
  readonly servicePort: number | string;
  /**
   * ClusterIssuer that orders a certificate for this ingress alone (cert-manager's ingress-shim);
   * undefined: Traefik's default certificate, i.e. the wildcard when the stack has one
   * (System.ingressIssuer).
   */
  readonly clusterIssuer: string | undefined;
  /** Also allow only LAN clients (the lan-only middleware). Default false. */
  readonly lanOnly?: boolean;
  /** A forward-auth Middleware (Authentik's) the router runs after the allow-list. Default none. */
  readonly forwardAuth?: { readonly name: string; readonly namespace: string };
  readonly path?: string;
}

/** The annotations of the convention (for charts that render their own Ingress from values). */
export function ingressAnnotations(args: Pick<IngressArgs, "clusterIssuer" | "lanOnly" | "forwardAuth">): Record<string, string> {
  // Traefik runs a router's middlewares in the order listed: the allow-list refuses other networks
  // with 403 before anyone is sent to a login page.
  const middlewares = [...(args.lanOnly ? [middlewareRef(LAN_ONLY_MIDDLEWARE)] : []), ...(args.forwardAuth ? [middlewareRef(args.forwardAuth)] : [])];
  return {
    ...(args.clusterIssuer !== undefined ? { "cert-manager.io/cluster-issuer": args.clusterIssuer } : {}),
    ...(middlewares.length > 0 ? { "traefik.ingress.kubernetes.io/router.middlewares": middlewares.join(",") } : {}),
  };
}

/**
 * The `tls` entry of the convention: with an issuer, cert-manager writes the certificate to
 * `<name>-tls`. Without one nothing would ever write that Secret, so the entry names no Secret and
 * Traefik serves its default certificate (the wildcard, when the stack has it).
 */
export function ingressTls(args: Pick<IngressArgs, "name" | "host" | "clusterIssuer">): { hosts: string[]; secretName?: string } {
  return args.clusterIssuer !== undefined ? { hosts: [args.host], secretName: `${args.name}-tls` } : { hosts: [args.host] };
}

/** A networking.k8s.io/v1 Ingress manifest following the convention exactly. Pure. */
export function renderIngress(args: IngressArgs) {
  const annotations = ingressAnnotations(args);
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: args.name, namespace: args.namespace, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
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
