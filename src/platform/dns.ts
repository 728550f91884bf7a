// DnsRecords: Cloudflare A records for the wildcard and the apex of the stack's domain, pointing at
// Traefik's LoadBalancer address, with a Cloudflare provider of their own (the secret API token).
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";

export const TYPE = "homelab:platform:DnsRecords";

export interface DnsRecordsArgs {
  /** Cloudflare zone ID of the zone that holds the domain (config dns.zoneId). */
  readonly zoneId: string;
  /** The stack's domain, e.g. lab.example.com (the zone apex or a name inside the zone). */
  readonly domain: string;
  /** Traefik's LoadBalancer address (config traefik.loadBalancerIp). */
  readonly address: string;
  /** Cloudflare API token with Zone:DNS:Edit on the zone (secret). */
  readonly apiToken: pulumi.Input<string>;
  /** Proxy through Cloudflare (config dns.proxied). Default false. */
  readonly proxied?: boolean;
  /** TTL in seconds; 1 is "automatic" (config dns.ttl). Proxied records always use 1. */
  readonly ttl: number;
}

/** Full record names: the domain need not be the zone apex, so `@` would be wrong. */
export function recordNames(domain: string): { wildcard: string; apex: string } {
  return { wildcard: `*.${domain}`, apex: domain };
}

export class DnsRecords extends pulumi.ComponentResource {
  public readonly provider: cloudflare.Provider;
  public readonly wildcard: cloudflare.DnsRecord;
  public readonly apex: cloudflare.DnsRecord;

  constructor(name: string, args: DnsRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    this.provider = new cloudflare.Provider(`${name}-provider`, { apiToken: pulumi.secret(args.apiToken) }, { parent: this });
    const names = recordNames(args.domain);
    const proxied = args.proxied ?? false;
    const record = (suffix: string, recordName: string) =>
      new cloudflare.DnsRecord(
        `${name}-${suffix}`,
        {
          zoneId: args.zoneId,
          name: recordName,
          type: "A",
          content: args.address,
          proxied,
          // Cloudflare ignores the TTL of proxied records and reports 1 (automatic): say so, or every preview shows a diff.
          ttl: proxied ? 1 : args.ttl,
          comment: "Traefik LoadBalancer address (managed by Pulumi, homelab)",
        },
        { parent: this, provider: this.provider },
      );
    this.wildcard = record("wildcard", names.wildcard);
    this.apex = record("apex", names.apex);
    this.registerOutputs({ wildcard: this.wildcard.name, apex: this.apex.name });
  }
}
