// The schema of more wildcard domains (`homelab:domains`) and of cert-manager issuers besides
// Let's Encrypt (`certManager.issuers`): a root CA the program generates, or an external ACME
// server such as step-ca. Cross-field checks are in domains.ts.
import { z } from "zod";

/** A name used in resource and ClusterIssuer names: one lowercase DNS label. */
export const KEY_RE = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const key = z.string().regex(KEY_RE, "must be a short lowercase name such as lan (letters, digits and '-', up to 32)");
const dnsName = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "must be a lowercase DNS name such as lan.example.com");

export const domainSchema = z.strictObject({
  /** The DNS name: apps on it are `<host>.<name>`, its wildcard certificate `*.<name>`. */
  name: dnsName,
  /** Issuer of its certificate: staging, production or a key of certManager.issuers. Default certManager.issuer. */
  issuer: key.optional(),
  /** Default of apps.<name>.lanOnly for the apps on this domain. Default true. */
  lanOnly: z.boolean().default(true),
});

/** Extra wildcard domains by key (the name apps.<name>.domain uses). Default none. */
export const domainsSchema = z.record(key, domainSchema);

export const caIssuerSchema = z.strictObject({
  /** Subject common name of the root. Default "Homelab Root CA". */
  commonName: z.string().min(1).max(64).default("Homelab Root CA"),
  /** Years the root is valid. Default 10 (it is never renewed by the program: see README). */
  validityYears: z.number().int().min(1).max(30).default(10),
});

export const acmeIssuerSchema = z.strictObject({
  /** ACME directory URL, e.g. https://ca.lab.example.org/acme/acme/directory (step-ca). */
  server: z.url({ protocol: /^https$/, error: "must be the https:// URL of the ACME directory, such as https://ca.lab.example.org/acme/acme/directory" }),
  /** PEM of the root certificate that signed the ACME server's own TLS certificate. */
  caBundle: z
    .string()
    .regex(
      /^\s*(-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----\s*)+$/,
      "must be PEM certificates (-----BEGIN CERTIFICATE----- ...), such as step-ca's root_ca.crt",
    ),
  /** ACME account e-mail. Optional (step-ca needs none). */
  email: z.email({ error: "must be an e-mail address for the ACME account" }).optional(),
  /**
   * How challenges are solved: http01 through Traefik (one certificate per host: ACME gives no
   * wildcard over HTTP-01), or cloudflare (DNS-01, a wildcard per domain). Default http01.
   */
  solver: z.enum(["http01", "cloudflare"]).default("http01"),
});

/** One issuer: exactly one of ca and acme (checked in domains.ts, with the other problems). */
export const issuerSchema = z.strictObject({
  ca: caIssuerSchema.optional(),
  acme: acmeIssuerSchema.optional(),
});

export const issuersSchema = z.record(key, issuerSchema);

export type DomainConfig = z.output<typeof domainSchema>;
export type IssuerConfig = z.output<typeof issuerSchema>;
