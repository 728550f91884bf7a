// InternalCa: a root CA the program generates (certManager.issuers.<name>.ca), and the cert-manager
// CA ClusterIssuer that signs with it. The key never leaves Pulumi secrets: the provider returns
// privateKeyPem as a secret, and the Kubernetes Secret holding tls.crt/tls.key is built inside one.
// Key and root are protected: a replaced root would invalidate every certificate it signed and every
// device that trusts it, so neither is ever replaced or deleted without `pulumi state unprotect`.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { caClusterIssuer, caSecretName } from "./manifests";

export const TYPE = "homelab:system:InternalCa";

/** Hours in a year of 365 days (the root's validity is whole years). */
const HOURS_PER_YEAR = 365 * 24;

export interface InternalCaArgs {
  /** ClusterIssuer name (the key under certManager.issuers). */
  readonly issuer: string;
  /** The root's subject common name (config ca.commonName). */
  readonly commonName: string;
  /** Years the root is valid (config ca.validityYears). */
  readonly validityYears: number;
  /** cert-manager's namespace: a ClusterIssuer reads its Secret from there. */
  readonly namespace: pulumi.Input<string>;
  /** The cert-manager release (the ClusterIssuer CRD) and the namespace. */
  readonly createAfter: pulumi.Input<pulumi.Resource>[];
}

export class InternalCa extends pulumi.ComponentResource {
  public readonly key: tls.PrivateKey;
  public readonly root: tls.SelfSignedCert;
  public readonly secret: k8s.core.v1.Secret;
  public readonly issuer: k8s.apiextensions.CustomResource;
  /** The root certificate (PEM): public, exported so clients can trust it. */
  public readonly certPem: pulumi.Output<string>;

  constructor(name: string, args: InternalCaArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    this.key = new tls.PrivateKey(`${name}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this, protect: true });
    this.root = new tls.SelfSignedCert(
      `${name}-root`,
      {
        privateKeyPem: this.key.privateKeyPem,
        isCaCertificate: true,
        subject: { commonName: args.commonName },
        validityPeriodHours: args.validityYears * HOURS_PER_YEAR,
        // The provider takes snake_case usages (the example in selfSignedCert.d.ts), whatever its camelCased list says.
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        setSubjectKeyId: true,
      },
      { parent: this, protect: true },
    );
    this.certPem = this.root.certPem;
    this.secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: { name: caSecretName(args.issuer), namespace: args.namespace },
        type: "kubernetes.io/tls",
        stringData: pulumi.secret(pulumi.all([this.root.certPem, this.key.privateKeyPem]).apply(([crt, key]) => ({ "tls.crt": crt, "tls.key": key }))),
      },
      { parent: this, dependsOn: args.createAfter },
    );
    const manifest = caClusterIssuer({ name: args.issuer });
    this.issuer = new k8s.apiextensions.CustomResource(
      `${name}-issuer`,
      // Ready once cert-manager has read a valid key pair from the Secret.
      { ...manifest, metadata: { ...manifest.metadata, annotations: { "pulumi.com/waitFor": "condition=Ready" } } },
      { parent: this, dependsOn: [...args.createAfter, this.secret] },
    );
    this.registerOutputs({ certPem: this.certPem, issuer: args.issuer });
  }
}
