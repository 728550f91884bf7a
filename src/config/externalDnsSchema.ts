// external-dns (`externalDns`, seed 004): publishes the hosts of the stack's ingresses to Cloudflare
// (the token is the secret homelab:cloudflareApiToken, shared with cert-manager and the DNS records)
// or to Pi-hole's local DNS (its password is the secret homelab:piholePassword).
import { z } from "zod";

export const externalDnsSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Where records go: cloudflare (the zone of the domain) or pihole (its Local DNS records). */
  provider: z.enum(["cloudflare", "pihole"]).optional(),
  /** What external-dns reads hosts from. Default [ingress] (every app and Grafana ingress). */
  sources: z
    .array(z.enum(["ingress", "service"]))
    .min(1, "list at least one source: ingress, service")
    .default(["ingress"]),
  /**
   * upsert-only (default): creates and updates, never deletes. create-only: never updates either.
   * sync: also deletes records of hosts that went away (Cloudflare only: there the TXT registry
   * limits deletes to records this stack made).
   */
  policy: z.enum(["upsert-only", "create-only", "sync"]).default("upsert-only"),
  /** Owner ID written to the TXT registry records (Cloudflare). Default homelab-<stack>. */
  txtOwnerId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,63}$/, "must be 1-63 of A-Z a-z 0-9 . _ -, such as homelab-lab")
    .optional(),
  /**
   * Cloudflare zone IDs of the zones holding the stack's domains (Cloudflare only, required there):
   * external-dns keeps only the zones its domain filter matches, and a filter such as
   * lab.example.com does not match its zone example.com (endpoint/domain_filter.go at v0.21.0), so
   * the zones are named by ID (--zone-id-filter) instead.
   */
  zoneIds: z
    .array(z.string().regex(/^[0-9a-f]{32}$/, "must be the 32-character Cloudflare zone ID"))
    .min(1, "list at least one zone ID")
    .optional(),
  /** How often external-dns reconciles. Default 1m. */
  interval: z
    .string()
    .regex(/^\d+[smh]$/, "must be a duration such as 1m")
    .default("1m"),
  pihole: z
    .strictObject({
      /**
       * Base URL of Pi-hole's web server, e.g. http://192.168.1.6, or for the catalog's Pi-hole
       * http://pihole-main.network.svc.cluster.local (app-template names its web Service
       * `pihole-main` beside `pihole-dns`: src/apps/appTemplateNames.ts; its namespace is
       * apps.pihole.namespace, default network).
       */
      server: z.url({ protocol: /^https?$/, error: "must be Pi-hole's web URL such as http://192.168.1.6" }),
      /** Pi-hole's API: 6 (Pi-hole v6, the REST API) or 5 (deprecated upstream). Default 6. */
      apiVersion: z.enum(["5", "6"]).default("6"),
      /** Accept a self-signed certificate on an https server. Default false. */
      tlsSkipVerify: z.boolean().default(false),
    })
    .optional(),
});

export type ExternalDnsConfig = z.output<typeof externalDnsSchema>;

/**
 * Checks of externalDns beyond its schema: a provider and its settings, Pi-hole's policy, and one
 * owner per Cloudflare name (Pulumi's DnsRecords or external-dns, not both for one domain).
 */
export function externalDnsChecks(cfg: {
  readonly externalDns: ExternalDnsConfig;
  readonly dns: { readonly enabled: boolean };
  readonly domain: string;
  readonly cluster: { readonly traefik: boolean };
}): string[] {
  const e = cfg.externalDns;
  const errors: string[] = [];
  if (!e.enabled) return errors;
  if (e.provider === undefined) errors.push("externalDns.provider: is required when externalDns.enabled is true; set cloudflare or pihole");
  if (e.provider === "pihole" && e.pihole === undefined) {
    errors.push("externalDns.pihole.server: is required because externalDns.provider is pihole; set Pi-hole's web URL such as http://192.168.1.6");
  }
  if (e.provider === "cloudflare" && e.pihole !== undefined) {
    errors.push("externalDns.pihole: is set but externalDns.provider is cloudflare; remove it or set provider: pihole");
  }
  if (e.provider === "cloudflare" && e.zoneIds === undefined) {
    errors.push(
      "externalDns.zoneIds: is required because externalDns.provider is cloudflare; external-dns reads only the zones its domain filter matches, and a domain inside a zone (lab.example.com in example.com) does not match it, so nothing would be published; list the Cloudflare zone ID of each domain's zone (the zone's Overview page)",
    );
  }
  if (e.provider === "pihole" && e.zoneIds !== undefined) {
    errors.push("externalDns.zoneIds: Pi-hole has no zones (zone IDs are Cloudflare's); remove it");
  }
  if (e.provider === "pihole" && e.txtOwnerId !== undefined) {
    errors.push("externalDns.txtOwnerId: Pi-hole keeps no TXT ownership records (external-dns runs with registry noop there); remove it");
  }
  if (e.provider === "pihole" && e.policy === "sync") {
    errors.push(
      "externalDns.policy: sync deletes every record external-dns does not find in the cluster, and Pi-hole has no ownership records to limit that to its own, so hand-made Local DNS records would go; use upsert-only (the default)",
    );
  }
  if (e.provider === "cloudflare" && cfg.dns.enabled) {
    errors.push(
      `externalDns.provider: cloudflare would publish the hosts under ${cfg.domain}, which dns.enabled already publishes through Pulumi's records (*.${cfg.domain} and ${cfg.domain}); one owner per name: turn dns.enabled off to let external-dns publish each host, or use provider pihole`,
    );
  }
  if (!cfg.cluster.traefik && e.sources.length === 1 && e.sources[0] === "ingress") {
    errors.push("externalDns.sources: only ingress, and cluster.traefik is false, so the stack has no ingress to publish; add service or turn externalDns off");
  }
  return errors;
}
