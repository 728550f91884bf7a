// The stack's wildcard domains and issuers, resolved and checked: homelab:domain (the primary one)
// and homelab:domains, each with its issuer (certManager.issuer by default) and its apps'
// LAN-only default. A wildcard covers exactly one label, so a host is valid when it lies one
// label under some declared domain (`n8n.lan` under homelab:domain is valid when lan.<domain> is
// declared too). Pure.
import type { DomainConfig, IssuerConfig } from "./domainsSchema";
import type { StackConfig } from "./schema";

/** The issuers every stack has when cert-manager is on: Let's Encrypt over DNS-01 on Cloudflare. */
export const LETSENCRYPT_ISSUERS = ["staging", "production"] as const;
export type LetsEncryptIssuer = (typeof LETSENCRYPT_ISSUERS)[number];

/** How an issuer signs: Let's Encrypt, the generated root CA, or an external ACME server. */
export type IssuerKind = "letsencrypt" | "ca" | "acme-http01" | "acme-cloudflare";

export interface StackDomain {
  /** Key under homelab:domains; undefined for homelab:domain. */
  readonly key: string | undefined;
  /** Where it is configured, for messages. */
  readonly path: string;
  /** DNS name, e.g. lan.example.com. */
  readonly name: string;
  /** Issuer name as configured (staging, production or a key of certManager.issuers). */
  readonly issuer: string;
  /** Default of apps.<name>.lanOnly for its apps. */
  readonly lanOnly: boolean;
}

type DomainKeys = Pick<StackConfig, "domain" | "domains" | "certManager">;

/** homelab:domain first, then homelab:domains by key. */
export function stackDomains(cfg: DomainKeys): StackDomain[] {
  const primary: StackDomain = { key: undefined, path: "domain", name: cfg.domain, issuer: cfg.certManager.issuer, lanOnly: true };
  const extra = Object.keys(cfg.domains)
    .sort()
    .map((key): StackDomain => {
      const d: DomainConfig = cfg.domains[key];
      return { key, path: `domains.${key}`, name: d.name, issuer: d.issuer ?? cfg.certManager.issuer, lanOnly: d.lanOnly };
    });
  return [primary, ...extra];
}

/** The kind of a configured issuer name, or undefined when the stack has no such issuer. */
export function issuerKind(issuers: Readonly<Record<string, IssuerConfig>>, name: string): IssuerKind | undefined {
  if ((LETSENCRYPT_ISSUERS as readonly string[]).includes(name)) return "letsencrypt";
  const i = issuers[name];
  if (i === undefined) return undefined;
  if (i.ca !== undefined && i.acme === undefined) return "ca";
  if (i.acme !== undefined && i.ca === undefined) return i.acme.solver === "http01" ? "acme-http01" : "acme-cloudflare";
  return undefined;
}

/** Whether an issuer can sign a wildcard: every kind but ACME over HTTP-01 (RFC 8555 section 7.1.3). */
export function issuesWildcards(kind: IssuerKind): boolean {
  return kind !== "acme-http01";
}

/** The DNS name of the domain an app names (apps.<name>.domain), or undefined for an unknown key. */
export function appDomainName(cfg: Pick<StackConfig, "domain" | "domains">, domainKey: string | undefined): string | undefined {
  return domainKey === undefined ? cfg.domain : cfg.domains[domainKey]?.name;
}

/** The domain whose wildcard covers `fqdn` (one label under it), or undefined. */
export function coveringDomain(domains: readonly StackDomain[], fqdn: string): StackDomain | undefined {
  const dot = fqdn.indexOf(".");
  return dot < 0 ? undefined : domains.find((d) => d.name === fqdn.slice(dot + 1));
}

/** The cert-manager issuers domains name (sorted, each once), with their kind. */
export function usedIssuers(cfg: DomainKeys): { name: string; kind: IssuerKind }[] {
  const names = [...new Set(stackDomains(cfg).map((d) => d.issuer))].sort();
  return names.flatMap((name) => {
    const kind = issuerKind(cfg.certManager.issuers, name);
    return kind === undefined ? [] : [{ name, kind }];
  });
}

/** Whether the stack needs Let's Encrypt (and so the ACME e-mail and the Cloudflare token). */
export function needsLetsEncrypt(cfg: DomainKeys): boolean {
  return usedIssuers(cfg).some((i) => i.kind === "letsencrypt");
}

/** Whether the stack needs the Cloudflare token for DNS-01 (Let's Encrypt, or an ACME issuer solving on Cloudflare). */
export function needsCloudflareDns01(cfg: DomainKeys): boolean {
  return usedIssuers(cfg).some((i) => i.kind === "letsencrypt" || i.kind === "acme-cloudflare");
}

/** The keys domainChecks reads. */
export const DOMAIN_CHECK_KEYS = ["domain", "domains", "certManager", "cluster"] as const;

export function domainChecks(cfg: Pick<StackConfig, (typeof DOMAIN_CHECK_KEYS)[number]>): string[] {
  const errors: string[] = [];
  const issuerNames = Object.keys(cfg.certManager.issuers).sort();
  const choices = [...LETSENCRYPT_ISSUERS, ...issuerNames].join(", ");
  for (const [name, issuer] of Object.entries(cfg.certManager.issuers)) {
    const path = `certManager.issuers.${name}`;
    if ((LETSENCRYPT_ISSUERS as readonly string[]).includes(name) || name === "letsencrypt-staging" || name === "letsencrypt-prod") {
      errors.push(`${path}: ${name} is the name of a built-in Let's Encrypt issuer; choose another name, such as internal`);
    }
    if ((issuer.ca === undefined) === (issuer.acme === undefined)) {
      errors.push(
        `${path}: ${issuer.ca === undefined ? "sets neither" : "sets both"} ca and acme; set exactly one (ca: a root the program generates, acme: an external ACME server such as step-ca)`,
      );
    }
    if (issuer.acme?.solver === "http01" && !cfg.cluster.traefik) {
      errors.push(`${path}.acme.solver: http01 answers challenges through Traefik, but cluster.traefik is false; set solver: cloudflare or cluster.traefik: true`);
    }
  }
  const seen = new Map<string, string>();
  for (const d of stackDomains(cfg)) {
    const issuerPath = d.key === undefined ? "certManager.issuer" : `${d.path}.issuer`;
    const explicit = d.key === undefined || cfg.domains[d.key].issuer !== undefined;
    if (explicit && !(LETSENCRYPT_ISSUERS as readonly string[]).includes(d.issuer) && cfg.certManager.issuers[d.issuer] === undefined) {
      errors.push(`${issuerPath}: '${d.issuer}' is not an issuer of this stack; use one of ${choices}, or declare it under certManager.issuers`);
    }
    if (d.key !== undefined && cfg.domains[d.key].issuer !== undefined && !cfg.certManager.enabled) {
      errors.push(`${issuerPath}: issuers are cert-manager's, but certManager.enabled is false; set certManager.enabled: true or remove issuer`);
    }
    const namePath = d.key === undefined ? "domain" : `${d.path}.name`;
    const other = seen.get(d.name);
    if (other !== undefined) errors.push(`${namePath}: ${d.name} is also ${other}; declare each domain once`);
    else seen.set(d.name, d.key === undefined ? "homelab:domain" : namePath);
  }
  return errors;
}

/**
 * Problems of one app's host: an unknown domain key, a name no wildcard covers. `host` is the
 * configured label(s), `fqdn` the full name (undefined without ingress). Pure.
 */
export function appDomainChecks(cfg: DomainKeys, app: string, domainKey: string | undefined, fqdn: string | undefined): string[] {
  const keys = Object.keys(cfg.domains).sort();
  if (domainKey !== undefined && cfg.domains[domainKey] === undefined) {
    const known =
      keys.length > 0
        ? `use one of ${keys.join(", ")}, or remove it for homelab:domain (${cfg.domain})`
        : `declare it under homelab:domains, or remove it for homelab:domain (${cfg.domain})`;
    return [`apps.${app}.domain: '${domainKey}' is not declared under homelab:domains; ${known}`];
  }
  if (fqdn === undefined) return [];
  const domains = stackDomains(cfg);
  if (coveringDomain(domains, fqdn) !== undefined) return [];
  const wildcards = domains.map((d) => `*.${d.name}`).join(", ");
  const parent = fqdn.slice(fqdn.indexOf(".") + 1);
  return [
    `apps.${app}.host: ${fqdn} is not covered by a wildcard certificate (each covers one label: ${wildcards}); use a single label, or declare ${parent} under homelab:domains`,
  ];
}
