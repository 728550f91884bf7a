// Pure values of the external-dns chart (kubernetes-sigs/external-dns, keys as charts/external-dns/
// values.yaml has them at external-dns-helm-chart-1.21.1, app 0.21.0). The credentials reach the
// container as env from a Secret (secretKeyRef), never as a Helm value or an argument.

/** The namespace external-dns runs in. */
export const EXTERNAL_DNS_NAMESPACE = "external-dns";
/** The Secret holding the provider's credential, and its key. */
export const EXTERNAL_DNS_SECRET = { name: "external-dns-credentials", key: "credential" } as const;

export interface ExternalDnsValuesArgs {
  readonly provider: "cloudflare" | "pihole";
  readonly sources: readonly string[];
  readonly policy: string;
  /** TXT registry owner (Cloudflare); Pi-hole runs with registry noop. */
  readonly txtOwnerId: string;
  /** Cloudflare zone IDs external-dns looks into (--zone-id-filter); the domain filter then narrows the names. */
  readonly zoneIds?: readonly string[];
  /** The stack's domain(s): external-dns touches no name outside them. */
  readonly domainFilters: readonly string[];
  readonly interval: string;
  readonly pihole?: { readonly server: string; readonly apiVersion: string; readonly tlsSkipVerify: boolean };
}

const fromSecret = (name: string) => ({ name, valueFrom: { secretKeyRef: { name: EXTERNAL_DNS_SECRET.name, key: EXTERNAL_DNS_SECRET.key } } });

export function externalDnsValues(args: ExternalDnsValuesArgs): Record<string, unknown> {
  const common = {
    fullnameOverride: "external-dns",
    sources: [...new Set(args.sources)].sort(),
    // upsert-only by default: external-dns never deletes a record, so a name someone made by hand
    // (or another tool made) in the same zone or Pi-hole survives, and an ingress removed by mistake
    // does not take its record down with it. sync (Cloudflare only) deletes just what it owns.
    policy: args.policy,
    domainFilters: [...args.domainFilters],
    interval: args.interval,
  };
  if (args.provider === "cloudflare") {
    return {
      ...common,
      provider: { name: "cloudflare" },
      // Token auth (docs/tutorials/cloudflare.md): CF_API_TOKEN, and no CF_API_KEY/CF_API_EMAIL.
      env: [fromSecret("CF_API_TOKEN")],
      // TXT ownership records: this stack only ever updates (or deletes, with sync) names it made.
      registry: "txt",
      txtOwnerId: args.txtOwnerId,
      // The zones by ID: Cloudflare's zone list is filtered by domainFilters, which drops the zone
      // example.com of a domain lab.example.com (endpoint/domain_filter.go matches suffixes only);
      // with zone IDs every listed zone is read and domainFilters still limits the record names.
      // A list value renders one --zone-id-filter per ID (the chart's deployment.yaml, 1.21.1).
      extraArgs: { "zone-id-filter": [...(args.zoneIds ?? [])] },
    };
  }
  const p = args.pihole!;
  return {
    ...common,
    provider: { name: "pihole" },
    // Every flag is also an env var (EXTERNAL_DNS_<FLAG>): the password stays out of the arguments.
    env: [fromSecret("EXTERNAL_DNS_PIHOLE_PASSWORD")],
    // Pi-hole stores A/AAAA/CNAME only, no TXT: there is no ownership to record (docs/tutorials/pihole.md).
    registry: "noop",
    extraArgs: {
      "pihole-server": p.server,
      // In-tree since external-dns 0.17.0: --pihole-api-version=6 talks to Pi-hole v6's REST API (no webhook needed).
      "pihole-api-version": p.apiVersion,
      ...(p.tlsSkipVerify ? { "pihole-tls-skip-verify": true } : {}),
    },
  };
}
