// The stack config schema: one strict zod schema per `homelab:<key>` of a stack file.
//
// Every object is strict (unknown keys are errors). Defaults live here and nowhere else; the
// annotated sample (docs/config-reference.yaml) documents each key with the same defaults.
// Cross-field checks (overlaps, quorum, references) live in validate.ts.
import { z } from "zod";
import { customAppSchema } from "./customAppSchema";
import { domainsSchema, issuersSchema, KEY_RE } from "./domainsSchema";
import { externalDnsSchema } from "./externalDnsSchema";
import { vmFirewallSchema } from "./firewallSchema";
import { k3sArgsSchema } from "./k3sArgs";
import { truenasSchema } from "./truenasSchema";

/** RFC 1123 label: what k3s, Proxmox and DNS all accept as a hostname. */
export const HOSTNAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const hostname = z.string().regex(HOSTNAME_RE, "must be an RFC 1123 hostname (lowercase letters, digits and '-', 1-63 characters, no leading or trailing '-')");
const dnsName = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "must be a lowercase DNS name such as lab.example.com");
const ipv4 = z.ipv4({ error: "must be an IPv4 address such as 10.0.20.11" });
const cidr = z.cidrv4({ error: "must be an IPv4 CIDR such as 10.0.20.0/24" });
/** A pinned version string: no ranges, no "latest". */
const version = z.string().regex(/^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/, "must be an exact version such as 1.2.3 (no ranges, no 'latest')");
const vmid = z.number().int().min(100).max(999_999_999);
const sizeGiB = z.number().int().min(1).max(65_536);
/**
 * A boot disk: Proxmox cannot import a cloud image into a disk smaller than the image's virtual
 * size (about 3.5 GiB for Ubuntu 24.04), and the node needs room for k3s, images and logs.
 */
const bootDiskGiB = z.number().int().min(8).max(65_536);
/** Kubernetes label syntax: [prefix/]name, name and value up to 63 of [A-Za-z0-9._-], alphanumeric at both ends. */
const labelKey = z
  .string()
  .regex(
    /^(([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/,
    "must be a Kubernetes label key such as node-role.kubernetes.io/worker or zone",
  );
const labelValue = z
  .string()
  .regex(/^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/, "must be a Kubernetes label value (up to 63 of A-Z a-z 0-9 . _ -, alphanumeric at both ends)");
const labels = z.record(labelKey, labelValue);
/** A taint in kubectl's form: key[=value]:Effect. */
export const TAINT_RE = /^[A-Za-z0-9./_-]+(=[A-Za-z0-9._-]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/;
const taint = z.string().regex(TAINT_RE, "must look like key=value:NoSchedule (effect NoSchedule, PreferNoSchedule or NoExecute)");
const storageId = z.string().regex(/^[A-Za-z][A-Za-z0-9._-]*$/, "must be a Proxmox storage ID such as local-lvm");

export const proxmoxNodeSchema = z.strictObject({
  /** Proxmox node name as shown in the cluster (`pvecm nodes`). */
  name: hostname,
  /** Address the provider uses for SSH uploads (snippets). */
  address: ipv4,
  /** Storage for VM disks. Default local-lvm. */
  vmDatastore: storageId.default("local-lvm"),
  /** Storage with the `import` content type, for cloud images. Default local. */
  imageDatastore: storageId.default("local"),
  /** Storage with the `snippets` content type, for cloud-init user-data. Default local. */
  snippetDatastore: storageId.default("local"),
});

export const proxmoxSchema = z.strictObject({
  /** API endpoint, e.g. https://10.0.10.11:8006/ */
  endpoint: z.url({ protocol: /^https?$/, error: "must be a URL such as https://10.0.10.11:8006/" }),
  /** Accept the self-signed certificate Proxmox ships with. Default false. */
  insecure: z.boolean().default(false),
  /** User for the provider's SSH uploads to the Proxmox nodes. Default root. */
  sshUsername: z.string().min(1).default("root"),
  /** How many VMs one Proxmox node creates at once (bpg provider issues 995, 1521: lock timeouts). Default 2. */
  createConcurrency: z.number().int().min(1).max(32).default(2),
  nodes: z.array(proxmoxNodeSchema).min(1, "declare at least one Proxmox node"),
});

export const imageSchema = z.strictObject({
  /** A dated, immutable image URL (not a `current/` link). */
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL of a dated cloud image" }),
  /** Hex digest of the image. */
  checksum: z.string().regex(/^[0-9a-f]{64}([0-9a-f]{64})?$/, "must be the hex sha256 (64) or sha512 (128) digest of the image"),
  checksumAlgorithm: z.enum(["sha256", "sha512"]).default("sha256"),
  /** File name on the Proxmox storage; the import content type needs .qcow2, .raw or .vmdk. */
  fileName: z.string().regex(/^[A-Za-z0-9._-]+\.(qcow2|raw|vmdk)$/, "must end in .qcow2, .raw or .vmdk (Proxmox import content)"),
});

export const networkSchema = z.strictObject({
  subnet: cidr,
  gateway: ipv4,
  dns: z.array(ipv4).min(1, "list at least one DNS server").default(["1.1.1.1"]),
  /** Search domain written to each VM. Optional. */
  searchDomain: dnsName.optional(),
  /** Proxmox bridge. Default vmbr0. */
  bridge: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, "must be a bridge name such as vmbr0")
    .default("vmbr0"),
  /** 802.1Q VLAN tag on the VM NIC. Optional (untagged). */
  vlan: z.number().int().min(1).max(4094).optional(),
  /** The Proxmox firewall on every VM's NIC (src/config/firewallSchema.ts). Default off. */
  firewall: vmFirewallSchema.default({ enabled: false, inputPolicy: "DROP", adminSources: [], rules: [] }),
});

export const sshSchema = z.strictObject({
  /** Login user created by cloud-init. Default ubuntu. */
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a Linux user name")
    .refine((u) => u !== "root", "root cannot log in over SSH (the user-data sets disable_root); use a normal user such as ubuntu")
    .default("ubuntu"),
  /** Public keys allowed to log in; must include the public half of the homelab:sshPrivateKey secret. */
  authorizedKeys: z
    .array(z.string().regex(/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/, "must be an OpenSSH public key line (ssh-ed25519 AAAA... comment)"))
    .min(1, "list at least one public key"),
});

export const defaultsSchema = z.strictObject({
  cores: z.number().int().min(1).max(512).default(2),
  /** MiB. */
  memory: z.number().int().min(512).default(4096),
  /** GiB, at least 8. */
  diskSize: bootDiskGiB.default(32),
  cpuType: z.string().min(1).default("x86-64-v2-AES"),
  /** Protect VMs from `pulumi destroy` and replacement. Default false. */
  protect: z.boolean().default(false),
  /** Name of the image (key of `images`) VMs use unless they say otherwise. Default: the only image. */
  image: z.string().optional(),
});

const vmSizing = {
  cores: z.number().int().min(1).max(512).optional(),
  memory: z.number().int().min(512).optional(),
  diskSize: bootDiskGiB.optional(),
  protect: z.boolean().optional(),
  image: z.string().optional(),
  /** Extra Proxmox tags; they are sorted (Proxmox sorts them). */
  tags: z.array(z.string().regex(/^[a-z0-9_-]+$/, "must be lowercase letters, digits, '-' or '_'")).default([]),
};

export const gpuSchema = z.strictObject({
  /** Host PCI address, e.g. 0000:01:00.0 */
  pciPath: z.string().regex(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/, "must be a PCI address such as 0000:01:00.0 (lspci -D)"),
  /** vendor:device, e.g. 10de:27b0 */
  id: z.string().regex(/^[0-9a-f]{4}:[0-9a-f]{4}$/, "must be vendor:device such as 10de:27b0 (lspci -nn)"),
  subsystemId: z
    .string()
    .regex(/^[0-9a-f]{4}:[0-9a-f]{4}$/, "must be vendor:device such as 10de:16fa")
    .optional(),
  iommuGroup: z.number().int().min(0).optional(),
  /** Value of the `accelerator` node label, e.g. nvidia-rtx-4000-ada. */
  accelerator: z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, "must be a label value such as nvidia-rtx-4000-ada"),
  /**
   * NVIDIA driver branch installed from Ubuntu's archive (see kernelModules for the package). Default
   * 580: on noble the 570-server packages became transitional packages to 580-server.
   */
  driverBranch: z
    .string()
    .regex(/^\d{3}$/, "must be a driver branch such as 580")
    .default("580"),
  /**
   * NVIDIA kernel module flavour: open (nvidia-driver-<branch>-server-open; NVIDIA's default since
   * 560 and the one to use on Turing and newer, e.g. Ada) or proprietary (nvidia-driver-<branch>-server;
   * required for Maxwell, Pascal and Volta, e.g. a Tesla P40). Default open.
   */
  kernelModules: z.enum(["open", "proprietary"]).default("open"),
  /** Time-slicing replicas per GPU for the device plugin; 1 disables time-slicing. Default 1. */
  timeSlicingReplicas: z.number().int().min(1).max(48).default(1),
});

export const clusterNodeSchema = z.strictObject({
  name: hostname,
  role: z.enum(["server", "agent", "gpu"]),
  /** Proxmox node that hosts the VM (a `proxmox.nodes[].name`). */
  host: hostname,
  vmid,
  ip: ipv4,
  ...vmSizing,
  /** Node labels, applied at first registration only (k3s). */
  labels: labels.default({}),
  /** Node taints (key=value:Effect), applied at first registration only (k3s). */
  taints: z.array(taint).default([]),
  /** Required for role gpu. */
  gpu: gpuSchema.optional(),
  /** GiB of a second disk for Longhorn (/var/lib/longhorn); only with storage.longhorn.enabled. */
  dataDiskSize: sizeGiB.optional(),
});

export const standaloneVmSchema = z.strictObject({
  name: hostname,
  host: hostname,
  vmid,
  ip: ipv4,
  ...vmSizing,
  /** Extra Ubuntu packages installed by cloud-init. */
  packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, "must be a Debian package name")).default([]),
});

export const clusterSchema = z.strictObject({
  /** Extra API hostname for the kubeconfig and tls-san, e.g. k3s.lab.example.com. */
  apiHostname: dnsName.optional(),
  /** A virtual IP in front of the servers (kube-vip or a router); added to tls-san and used as the API endpoint. */
  apiVip: ipv4.optional(),
  /** Keep k3s's bundled Traefik. Default true (seed 002 disables it). */
  traefik: z.boolean().default(true),
  clusterCidr: cidr.default("10.42.0.0/16"),
  serviceCidr: cidr.default("10.43.0.0/16"),
  /** Extra tls-san entries. */
  tlsSans: z.array(z.string().min(1)).default([]),
  /** Run the nvidia-smi smoke Job as the GPU node's readiness gate. Default true. */
  gpuSmokeTest: z.boolean().default(true),
  /** Extra k3s config.yaml keys per role (src/config/k3sArgs.ts). Default none. */
  k3s: k3sArgsSchema.default({ server: {}, agent: {} }),
  /** How many agents a k3s upgrade drains and upgrades at once (servers always go one at a time). Default 1. */
  agentUpgradeBatch: z.number().int().min(1).max(16).default(1),
  /** Scheduled embedded-etcd snapshots, kept off the VMs in an S3 bucket. Optional (k3s's default: local only). */
  etcdSnapshots: z
    .strictObject({
      /** Cron schedule (the servers' time zone, UTC on the cloud image). Default every 6 hours. */
      schedule: z
        .string()
        .regex(/^\S+( \S+){4}$/, "must be a five-field cron schedule such as '0 */6 * * *'")
        .default("0 */6 * * *"),
      /** Snapshots kept per server (k3s prunes older ones, in S3 too). Default 28 (a week at the default schedule). */
      retention: z.number().int().min(1).max(1000).default(28),
      s3: z.strictObject({
        /** host[:port] of the S3 API, e.g. s3.amazonaws.com or nas.lab.example.com:9000 (MinIO, Garage). */
        endpoint: z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "must be host[:port] without a scheme, such as nas.lab.example.com:9000"),
        bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name (3-63 of a-z 0-9 . -)"),
        /** Folder in the bucket. Default: the stack name. */
        folder: z
          .string()
          .regex(/^[A-Za-z0-9._/-]+$/, "must be a path of A-Z a-z 0-9 . _ / -")
          .optional(),
        region: z.string().min(1).default("us-east-1"),
        /** Access key ID (an identifier; its secret half is the homelab:etcdS3SecretKey secret). */
        accessKey: z.string().min(1),
        /** Plain http to the endpoint (a LAN-only MinIO without TLS). Default false. */
        insecure: z.boolean().default(false),
      }),
    })
    .optional(),
  /**
   * Restore etcd from a snapshot on one rebuilt server, when every server was lost: that server's
   * join (a VM without k3s, no server of the cluster answering) runs k3s's cluster-reset from the
   * snapshot; the other servers then join it. Remove it once the cluster is back. Optional.
   */
  etcdRestore: z
    .strictObject({
      /** The server (a nodes[] name with role server) to restore on. */
      node: hostname,
      /** The snapshot's name as `k3s etcd-snapshot ls` lists it in S3, e.g. etcd-snapshot-k3s-server-01-1767225600. */
      snapshot: z.string().regex(/^[A-Za-z0-9._-]+$/, "must be a snapshot name such as etcd-snapshot-k3s-server-01-1767225600"),
    })
    .optional(),
  /** Agents the rolling reboot (settings that need a power cycle) takes down at once. Default 1. */
  agentRebootBatch: z.number().int().min(1).max(32).default(1),
});

export const metallbSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** First-last address of the pool, e.g. 10.0.20.200-10.0.20.220. */
  range: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}-\d{1,3}(\.\d{1,3}){3}$/, "must be a range first-last such as 10.0.20.200-10.0.20.220")
    .optional(),
});

export const certManagerSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** ACME account e-mail. */
  email: z.email({ error: "must be an e-mail address for the ACME account" }).optional(),
  /**
   * Issuer of homelab:domain's certificate (and the default of domains.<key>.issuer): staging or
   * production (Let's Encrypt), or a key of `issuers`. Default staging (no rate limits burnt by rebuilds).
   */
  issuer: z.string().regex(KEY_RE, "must be staging, production or the name of one of certManager.issuers").default("staging"),
  /** More issuers by name: a root CA the program generates, or an external ACME server (src/config/domainsSchema.ts). Default none. */
  issuers: issuersSchema.default({}),
  /** Resolvers cert-manager asks to check DNS-01 propagation (split-horizon LANs). */
  recursiveNameservers: z.array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}:\d+$/, "must be ip:port such as 1.1.1.1:53")).default(["1.1.1.1:53", "9.9.9.9:53"]),
});

export const traefikSchema = z.strictObject({
  /** Traefik's LoadBalancer IP, inside metallb.range. */
  loadBalancerIp: ipv4.optional(),
  /** CIDRs allowed by the `lan-only` middleware (seed 004). Default: the VM subnet. */
  lanAllowlist: z.array(cidr).optional(),
});

export const storageSchema = z.strictObject({
  nfs: z
    .strictObject({
      enabled: z.boolean().default(false),
      server: ipv4.optional(),
      /** Exported path for app data, e.g. /volume1/k3s */
      share: z
        .string()
        .regex(/^\/\S*$/, "must be an absolute export path such as /volume1/k3s")
        .optional(),
      /** Exported path for backups (pg_dump), e.g. /volume1/k3s-backups */
      backupShare: z
        .string()
        .regex(/^\/\S*$/, "must be an absolute export path")
        .optional(),
      /** NFS server of backupShare when it is not `server` (seed 003: backups on a Synology, data on a UNAS). */
      backupServer: ipv4.optional(),
      mountOptions: z.array(z.string()).default(["nfsvers=4.1", "hard"]),
    })
    .default({ enabled: false, mountOptions: ["nfsvers=4.1", "hard"] }),
  longhorn: z
    .strictObject({
      enabled: z.boolean().default(false),
      replicas: z.number().int().min(1).max(5).default(2),
      /**
       * Let Longhorn be uninstalled (its deleting-confirmation-flag): set it, `pulumi up`, then turn
       * enabled off. Uninstalling deletes every Longhorn volume. Default false.
       */
      allowUninstall: z.boolean().default(false),
    })
    .default({ enabled: false, replicas: 2, allowUninstall: false }),
  /** TrueNAS through democratic-csi (src/config/truenasSchema.ts). Default off. */
  truenas: truenasSchema.default({ enabled: false, port: 443, allowInsecure: false }),
});

export const dnsSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Cloudflare zone ID of the domain's zone. */
  zoneId: z
    .string()
    .regex(/^[0-9a-f]{32}$/, "must be the 32-character Cloudflare zone ID")
    .optional(),
  proxied: z.boolean().default(false),
  ttl: z.number().int().min(1).default(300),
});

export const monitoringSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Host label under the domain for Grafana. Default grafana. */
  grafanaHost: hostname.default("grafana"),
  retention: z
    .string()
    .regex(/^\d+[dhw]$/, "must be a duration such as 15d")
    .default("15d"),
  /** GiB of Prometheus storage. */
  storageSize: sizeGiB.default(20),
  /** Pod logs: Loki (one binary, filesystem storage on a kept local-path claim) fed by Alloy on every node, in Grafana. Default off. */
  logs: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** How long Loki keeps logs, in whole days (its index period is 24h). Default 14d. */
      retention: z
        .string()
        .regex(/^[1-9]\d*d$/, "must be whole days such as 14d (Loki's index period is 24h)")
        .default("14d"),
      /** GiB of Loki's claim (loki-data, local-path). Default 20. */
      storageSize: sizeGiB.default(20),
    })
    .default({ enabled: false, retention: "14d", storageSize: 20 }),
});

export const fluxSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Git URL: ssh://git@github.com/owner/repo.git (deploy key) or https://... (token). */
  url: z
    .string()
    .regex(/^(ssh:\/\/|https:\/\/)\S+$/, "must be an ssh:// or https:// Git URL")
    .optional(),
  branch: z.string().min(1).default("main"),
  /** Path in the repo. Default clusters/<stack>. */
  path: z.string().min(1).optional(),
  interval: z
    .string()
    .regex(/^\d+[smh]$/, "must be a duration such as 10m")
    .default("10m"),
  /** known_hosts lines for an ssh:// URL whose host is not github.com (GitHub's published keys are built in). */
  knownHosts: z
    .array(
      z
        .string()
        .regex(
          /^\S+ (ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+$/,
          "must be a known_hosts line such as 'git.example.com ssh-ed25519 AAAA...' (ssh-keyscan output)",
        ),
    )
    .optional(),
});

export const appSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Pinned chart version. */
  version,
  namespace: hostname.optional(),
  /**
   * Host under the app's domain (<host>.<domain>); omit for the catalog default, "" for no ingress.
   * Several labels (n8n.lan) only where a declared domain's wildcard covers the name (domains.ts).
   */
  host: z
    .string()
    .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)?$/, 'must be a DNS label such as n8n, or "" for no ingress')
    .optional(),
  /** The domain the host is under: a key of homelab:domains. Default homelab:domain. */
  domain: z.string().regex(KEY_RE, "must be the name of one of homelab:domains, such as lan").optional(),
  /** GiB of the app's data volume. */
  storageSize: sizeGiB.optional(),
  /**
   * StorageClass of the app's data volumes, pinned (the system layer's class names). Default: NFS
   * when enabled, else TrueNAS NFS, else Longhorn, else local-path; a pin keeps it there when
   * storage changes later.
   */
  storageClass: z.enum(["local-path", "nfs-client", "longhorn", "freenas-nfs-csi", "freenas-iscsi-csi"]).optional(),
  /** Ingress only for LAN clients (the lan-only middleware). Default true; false publishes the app to any client that reaches Traefik. */
  lanOnly: z.boolean().optional(),
  /** Sign-in in front of the ingress: authentik (Authentik's forward auth, after the lan-only allow-list). Needs apps.authentik. Default none. */
  auth: z.enum(["authentik"]).optional(),
  /** Schedule on the GPU node with one GPU; only for apps whose GPU is optional (jupyter, plex). Default false. */
  gpu: z.boolean().optional(),
  /** Helm values merged over the catalog's (escape hatch). */
  values: z.record(z.string(), z.unknown()).default({}),
  /** An app that is not in the catalog: a Helm chart or a container image (src/config/customAppSchema.ts). */
  custom: customAppSchema.optional(),
});

export const versionsSchema = z.strictObject({
  k3s: z.string().regex(/^v\d+\.\d+\.\d+\+k3s\d+$/, "must be a k3s release such as v1.34.2+k3s1"),
  metallb: version.optional(),
  certManager: version.optional(),
  csiDriverNfs: version.optional(),
  longhorn: version.optional(),
  kubePrometheusStack: version.optional(),
  /** loki chart (monitoring.logs), grafana-community.github.io/helm-charts. */
  loki: version.optional(),
  /** alloy chart (monitoring.logs), grafana.github.io/helm-charts. */
  alloy: version.optional(),
  nvidiaDevicePlugin: version.optional(),
  /**
   * nvidia-container-toolkit on GPU nodes: its apt version as NVIDIA's install guide pins it
   * (upstream release, then the package revision: 1.17.8-1), for all four toolkit packages.
   */
  nvidiaContainerToolkit: z
    .string()
    .regex(/^\d+\.\d+\.\d+-\d+$/, "must be the toolkit's apt version as NVIDIA's install guide pins it, such as 1.17.8-1")
    .optional(),
  /** democratic-csi chart (storage.truenas). */
  democraticCsi: version.optional(),
  /**
   * democratic-csi's driver image (controller and node) of storage.truenas,
   * ghcr.io/democratic-csi/democratic-csi: a release tag (v1.9.4: TrueNAS CORE 13 and SCALE up to
   * 24.04), or `next` pinned by digest (next@sha256:<digest>) for TrueNAS 25.04 and later, which no
   * release supports yet (democratic-csi issues #479, #532). The chart's own default is `latest`.
   */
  democraticCsiDriver: z
    .string()
    .regex(/^(v\d+\.\d+\.\d+|next@sha256:[0-9a-f]{64})$/, "must be a democratic-csi release tag such as v1.9.4, or next@sha256:<digest> for TrueNAS 25.04 and later")
    .optional(),
  /** external-dns chart (externalDns), kubernetes-sigs.github.io/external-dns. */
  externalDns: version.optional(),
  fluxOperator: version.optional(),
  flux: version.optional(),
});

/** Every `homelab:<key>` a stack may set, plain (non-secret) keys. */
export const stackSchema = z.strictObject({
  proxmox: proxmoxSchema,
  images: z
    .record(z.string().regex(/^[a-z0-9-]+$/, "must be lowercase letters, digits and '-', such as ubuntu-noble"), imageSchema)
    .refine((m) => Object.keys(m).length > 0, "is empty; declare at least one image"),
  network: networkSchema,
  ssh: sshSchema,
  domain: dnsName,
  /** More wildcard domains beside `domain`, by key (src/config/domainsSchema.ts). Default none. */
  domains: domainsSchema.default({}),
  versions: versionsSchema,
  defaults: defaultsSchema.default({ cores: 2, memory: 4096, diskSize: 32, cpuType: "x86-64-v2-AES", protect: false }),
  cluster: clusterSchema.default({
    traefik: true,
    clusterCidr: "10.42.0.0/16",
    serviceCidr: "10.43.0.0/16",
    tlsSans: [],
    gpuSmokeTest: true,
    k3s: { server: {}, agent: {} },
    agentUpgradeBatch: 1,
    agentRebootBatch: 1,
  }),
  nodes: z.array(clusterNodeSchema).min(1, "declare at least one cluster node"),
  vms: z.array(standaloneVmSchema).default([]),
  metallb: metallbSchema.default({ enabled: false }),
  certManager: certManagerSchema.default({ enabled: false, issuer: "staging", issuers: {}, recursiveNameservers: ["1.1.1.1:53", "9.9.9.9:53"] }),
  traefik: traefikSchema.default({}),
  storage: storageSchema.default({
    nfs: { enabled: false, mountOptions: ["nfsvers=4.1", "hard"] },
    longhorn: { enabled: false, replicas: 2, allowUninstall: false },
    truenas: { enabled: false, port: 443, allowInsecure: false },
  }),
  dns: dnsSchema.default({ enabled: false, proxied: false, ttl: 300 }),
  /** external-dns publishing the app hosts (src/config/externalDnsSchema.ts). Default off. */
  externalDns: externalDnsSchema.default({ enabled: false, sources: ["ingress"], policy: "upsert-only", interval: "1m" }),
  monitoring: monitoringSchema.default({ enabled: false, grafanaHost: "grafana", retention: "15d", storageSize: 20, logs: { enabled: false, retention: "14d", storageSize: 20 } }),
  flux: fluxSchema.default({ enabled: false, branch: "main", interval: "10m" }),
  apps: z.record(z.string(), appSchema).default({}),
});

/** Secret `homelab:<key>`s: read only as Pulumi secrets, never part of the plain config. */
export const SECRET_KEYS = ["proxmoxApiToken", "sshPrivateKey", "cloudflareApiToken", "fluxGitToken", "sopsAgeKey", "etcdS3SecretKey", "truenasApiKey", "piholePassword"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

export type StackConfig = z.output<typeof stackSchema>;
export type ClusterNodeConfig = StackConfig["nodes"][number];
export type StandaloneVmConfig = StackConfig["vms"][number];
export type ProxmoxNodeConfig = StackConfig["proxmox"]["nodes"][number];
export type ImageConfig = z.output<typeof imageSchema>;
export type GpuConfig = z.output<typeof gpuSchema>;
export type AppConfig = z.output<typeof appSchema>;
export type NodeRole = ClusterNodeConfig["role"];
