// Resolution of a validated config into the model components consume (model.ts): each enabled
// feature gets every field it needs, and each VM its Proxmox node and image. What is missing is
// reported here, as config errors, and nowhere else; components read the typed model and never
// check again. Runs on whatever part of the config parsed (a key that failed its schema is absent),
// so its errors come with the schema's. Pure.
import { needsCloudflareDns01, needsLetsEncrypt } from "./domains";
import { knownHostsFor, parseGitUrl } from "./git";
import { allVms, imageNameOf, type ExternalDnsTarget, type FluxAuth, type Homelab, type VmSpec } from "./model";
import { stackSchema, type SecretKey, type StackConfig } from "./schema";

/** Whichever top-level keys parsed. */
export type PartialStackConfig = Partial<StackConfig>;

/** The secrets a feature needs: whether each is set (with --secret), and how to hold its value. */
export interface SecretSource<S> {
  present(key: SecretKey): boolean;
  value(key: SecretKey): S;
}

export interface Resolution<S> {
  readonly errors: string[];
  /** The model; undefined when there are errors or part of the config did not parse. */
  readonly model: Homelab<S> | undefined;
}

function isComplete(cfg: PartialStackConfig): cfg is StackConfig {
  return Object.keys(stackSchema.shape).every((k) => cfg[k as keyof StackConfig] !== undefined);
}

export function resolveStack<S>(cfg: PartialStackConfig, secrets: SecretSource<S>): Resolution<S> {
  const errors: string[] = [];
  const need = <T>(value: T | undefined, path: string, why: string, fix: string): T | undefined => {
    if (value === undefined) errors.push(`${path}: is required because ${why}; ${fix}`);
    return value;
  };
  const secret = (key: SecretKey, why: string): S | undefined => {
    if (secrets.present(key)) return secrets.value(key);
    errors.push(`${key}: is required because ${why}; run \`pulumi config set --secret homelab:${key} ...\``);
    return undefined;
  };
  const versions = cfg.versions;
  /** A chart version an enabled feature needs; unknown (and not reported) when versions did not parse. */
  const pin = (key: Exclude<keyof StackConfig["versions"], "k3s">, why: string, fix: string): string | undefined =>
    versions === undefined ? undefined : need(versions[key], `versions.${key}`, why, fix);
  /** Set when a VM could not be resolved (its error is reported with it). */
  let incomplete = false;

  // Images and VMs.
  const imageNames = cfg.images ? Object.keys(cfg.images) : [];
  if (cfg.images && cfg.defaults) {
    if (cfg.defaults.image !== undefined && !imageNames.includes(cfg.defaults.image)) {
      errors.push(`defaults.image: '${cfg.defaults.image}' is not declared under images; use one of ${imageNames.join(", ")}`);
    }
    if (cfg.defaults.image === undefined && imageNames.length > 1) {
      errors.push(`defaults.image: is required when more than one image is declared; set it to one of ${imageNames.join(", ")}`);
    }
  }
  const machines: VmSpec[] = [];
  if (cfg.nodes && cfg.vms && cfg.defaults) {
    const pveNames = cfg.proxmox?.nodes.map((n) => n.name) ?? [];
    for (const d of allVms({ nodes: cfg.nodes, vms: cfg.vms, defaults: cfg.defaults })) {
      const pve = cfg.proxmox?.nodes.find((n) => n.name === d.host);
      if (cfg.proxmox && pve === undefined) {
        errors.push(`${d.path}.host (${d.name}): '${d.host}' is not a declared Proxmox node; declare it under proxmox.nodes or use one of ${pveNames.join(", ")}`);
      }
      if (cfg.images && d.imageRef !== undefined && !imageNames.includes(d.imageRef)) {
        errors.push(`${d.path}.image (${d.name}): '${d.imageRef}' is not declared under images; use one of ${imageNames.join(", ")}`);
      }
      const imageName = cfg.images ? imageNameOf({ images: cfg.images, defaults: cfg.defaults }, d) : undefined;
      const image = imageName !== undefined && imageNames.includes(imageName) ? cfg.images?.[imageName] : undefined;
      if (d.role === "gpu" && d.gpu === undefined) {
        errors.push(`${d.path}.gpu (${d.name}): a node with role gpu needs its PCI device; set gpu.pciPath, gpu.id and gpu.accelerator`);
      }
      if (d.role !== "gpu" && d.gpu !== undefined) {
        errors.push(`${d.path}.gpu (${d.name}): only nodes with role gpu take a PCI device; set role: gpu or remove gpu`);
      }
      if (pve === undefined || imageName === undefined || image === undefined) {
        incomplete = true;
        continue;
      }
      const { role, gpu, ...rest } = d;
      if (role === "gpu") {
        if (gpu !== undefined) machines.push({ ...rest, pve, imageName, image, role, gpu });
      } else if (gpu === undefined) {
        machines.push({ ...rest, pve, imageName, image, role });
      }
    }
  }
  const firstServer = machines.find((m) => m.role === "server");
  if (cfg.nodes && !cfg.nodes.some((n) => n.role === "server")) {
    errors.push(`nodes: no node has role server; give at least one node role: server`);
  }

  // etcd snapshots and a restore from one.
  let etcdSnapshots: Homelab<S>["etcdSnapshots"];
  const snapshots = cfg.cluster?.etcdSnapshots;
  if (snapshots && cfg.cluster) {
    const secretKey = secret("etcdS3SecretKey", "cluster.etcdSnapshots.s3 is set (the access key's secret half)");
    if (secretKey !== undefined) etcdSnapshots = { schedule: snapshots.schedule, retention: snapshots.retention, s3: { ...snapshots.s3, secretKey } };
    for (const key of Object.keys(cfg.cluster.k3s.server).filter((k) => /^etcd-(s3|snapshot|disable-snapshots)/.test(k))) {
      errors.push(`cluster.k3s.server.${key}: is set by cluster.etcdSnapshots; configure snapshots there only, and remove this key`);
    }
  }
  const restore = cfg.cluster?.etcdRestore;
  if (restore && cfg.nodes) {
    const servers = cfg.nodes.filter((n) => n.role === "server").map((n) => n.name);
    if (!servers.includes(restore.node)) {
      errors.push(`cluster.etcdRestore.node: '${restore.node}' is not a server of this stack; name one of ${servers.join(", ")}`);
    }
    if (!snapshots) {
      errors.push(`cluster.etcdRestore: needs cluster.etcdSnapshots.s3, where the snapshot is (a rebuilt server has none of its own); set the bucket the snapshots were taken to`);
    }
  }

  // Features: each enabled one with everything it needs.
  const subnet = cfg.network?.subnet ?? "the VM subnet";
  let metallb: Homelab<S>["metallb"] | undefined;
  if (cfg.metallb && !cfg.metallb.enabled) metallb = { ...cfg.metallb, enabled: false };
  else if (cfg.metallb) {
    const range = cfg.metallb.range;
    if (range === undefined) errors.push(`metallb.range: is required when metallb.enabled is true; set a free range such as first-last inside ${subnet}`);
    const chartVersion = pin("metallb", "metallb.enabled is true", "pin the MetalLB chart version, e.g. 0.15.2");
    if (range !== undefined && chartVersion !== undefined) metallb = { ...cfg.metallb, enabled: true, range, chartVersion };
  }

  let certManager: Homelab<S>["certManager"] | undefined;
  if (cfg.certManager && !cfg.certManager.enabled) certManager = { ...cfg.certManager, enabled: false };
  else if (cfg.certManager) {
    const chartVersion = pin("certManager", "certManager.enabled is true", "pin the cert-manager chart version, e.g. 1.19.1");
    // Let's Encrypt needs the account e-mail and DNS-01 on Cloudflare; a stack whose domains all
    // use other issuers (a generated root CA, step-ca over HTTP-01) needs neither.
    const domainKeys = cfg.domain !== undefined && cfg.domains !== undefined ? { domain: cfg.domain, domains: cfg.domains, certManager: cfg.certManager } : undefined;
    const letsEncrypt = domainKeys === undefined || needsLetsEncrypt(domainKeys);
    const dns01 = domainKeys === undefined || needsCloudflareDns01(domainKeys);
    const email = letsEncrypt ? need(cfg.certManager.email, "certManager.email", "certManager.enabled is true", "set the ACME account e-mail") : cfg.certManager.email;
    // Not needed but set: kept, so Let's Encrypt's issuers stay for Certificates of the user's own.
    const cloudflareApiToken = dns01
      ? secret("cloudflareApiToken", "certManager.enabled is true (DNS-01 on Cloudflare)")
      : secrets.present("cloudflareApiToken")
        ? secrets.value("cloudflareApiToken")
        : undefined;
    if (chartVersion !== undefined && (email !== undefined || !letsEncrypt) && (cloudflareApiToken !== undefined || !dns01)) {
      certManager = { ...cfg.certManager, enabled: true, chartVersion, email, cloudflareApiToken };
    }
  }

  let storage: Homelab<S>["storage"] | undefined;
  if (cfg.storage) {
    const { nfs, longhorn, truenas } = cfg.storage;
    let nfsOut: Homelab<S>["storage"]["nfs"] | undefined;
    if (!nfs.enabled) nfsOut = { ...nfs, enabled: false };
    else {
      const chartVersion = pin("csiDriverNfs", "storage.nfs.enabled is true", "pin the csi-driver-nfs chart version as its index spells it, e.g. 4.12.0");
      const server = need(nfs.server, "storage.nfs.server", "storage.nfs.enabled is true", "set the NFS server's address");
      const share = need(nfs.share, "storage.nfs.share", "storage.nfs.enabled is true", "set the exported path for app data");
      if (chartVersion !== undefined && server !== undefined && share !== undefined) nfsOut = { ...nfs, enabled: true, chartVersion, server, share };
    }
    let longhornOut: Homelab<S>["storage"]["longhorn"] | undefined;
    if (!longhorn.enabled) longhornOut = { ...longhorn, enabled: false };
    else {
      const chartVersion = pin("longhorn", "storage.longhorn.enabled is true", "pin the Longhorn chart version, e.g. 1.10.1");
      if (chartVersion !== undefined) longhornOut = { ...longhorn, enabled: true, chartVersion };
    }
    let truenasOut: Homelab<S>["storage"]["truenas"] | undefined;
    if (!truenas.enabled) truenasOut = { ...truenas, enabled: false };
    else {
      const why = "storage.truenas.enabled is true";
      const chartVersion = pin("democraticCsi", why, "pin the democratic-csi chart version, e.g. 0.15.1");
      const driverImage = pin(
        "democraticCsiDriver",
        why,
        "pin democratic-csi's driver image: v1.9.4 for TrueNAS CORE 13 and SCALE up to 24.04, next@sha256:<digest> for 25.04 and later (README: TrueNAS versions)",
      );
      const host = need(truenas.host, "storage.truenas.host", why, "set the TrueNAS address");
      const apiKey = secret("truenasApiKey", `${why} (the TrueNAS API)`);
      if (chartVersion !== undefined && driverImage !== undefined && host !== undefined && apiKey !== undefined)
        truenasOut = { ...truenas, enabled: true, chartVersion, driverImage, host, apiKey };
    }
    if (nfsOut !== undefined && longhornOut !== undefined && truenasOut !== undefined) storage = { ...cfg.storage, nfs: nfsOut, longhorn: longhornOut, truenas: truenasOut };
  }

  let monitoring: Homelab<S>["monitoring"] | undefined;
  if (cfg.monitoring && !cfg.monitoring.enabled) monitoring = { ...cfg.monitoring, enabled: false };
  else if (cfg.monitoring) {
    const chartVersion = pin("kubePrometheusStack", "monitoring.enabled is true", "pin the kube-prometheus-stack chart version, e.g. 79.5.0");
    const l = cfg.monitoring.logs;
    let logs: Extract<Homelab<S>["monitoring"], { enabled: true }>["logs"] | undefined = { ...l, enabled: false };
    if (l.enabled) {
      const lokiVersion = pin("loki", "monitoring.logs.enabled is true", "pin the loki chart version (grafana-community), e.g. 18.11.0");
      const alloyVersion = pin("alloy", "monitoring.logs.enabled is true", "pin the alloy chart version, e.g. 1.11.1");
      logs = lokiVersion !== undefined && alloyVersion !== undefined ? { ...l, enabled: true, lokiVersion, alloyVersion } : undefined;
    }
    if (chartVersion !== undefined && logs !== undefined) monitoring = { ...cfg.monitoring, enabled: true, chartVersion, logs };
  }

  const anyGpu = cfg.nodes?.some((n) => n.role === "gpu") ?? false;
  let devicePlugin: Homelab<S>["devicePlugin"] | undefined;
  if (anyGpu) {
    const chartVersion = pin("nvidiaDevicePlugin", "a node has role gpu", "pin the nvidia-device-plugin chart version, e.g. 0.18.0");
    const toolkitVersion = pin("nvidiaContainerToolkit", "a node has role gpu", "pin the NVIDIA container toolkit's apt version, e.g. 1.17.8-1");
    if (chartVersion === undefined || toolkitVersion === undefined) incomplete = true;
    else devicePlugin = { chartVersion, toolkitVersion };
  }

  let flux: Homelab<S>["flux"] | undefined;
  if (cfg.flux && !cfg.flux.enabled) flux = { ...cfg.flux, enabled: false };
  else if (cfg.flux) {
    const operatorVersion = pin("fluxOperator", "flux.enabled is true", "pin the flux-operator chart version, e.g. 0.33.0");
    const fluxVersion = pin("flux", "flux.enabled is true", "pin the Flux version the FluxInstance runs, e.g. 2.7.3");
    const url = need(cfg.flux.url, "flux.url", "flux.enabled is true", "set the Git URL Flux syncs");
    let auth: FluxAuth<S> | undefined;
    if (url !== undefined) {
      const git = parseGitUrl(url);
      if (git.scheme === "ssh") {
        const knownHosts = knownHostsFor(url, cfg.flux.knownHosts);
        if (knownHosts === undefined) {
          errors.push(
            `flux.knownHosts: is required because flux.url points at ${git.host}${git.port ? `:${git.port}` : ""}, whose SSH host keys are not built in; set it to the output of \`ssh-keyscan${git.port ? ` -p ${git.port}` : ""} ${git.host}\` after checking the fingerprints`,
          );
        } else auth = { kind: "deploy-key", knownHosts };
      } else {
        const token = secret("fluxGitToken", "flux.url is https:// (token auth)");
        if (token !== undefined) auth = { kind: "token", token };
      }
    }
    const sopsAgeKey = secrets.present("sopsAgeKey") ? secrets.value("sopsAgeKey") : undefined;
    if (operatorVersion !== undefined && fluxVersion !== undefined && url !== undefined && auth !== undefined) {
      flux = { ...cfg.flux, enabled: true, operatorVersion, fluxVersion, url, auth, sopsAgeKey };
    }
  }

  let dns: Homelab<S>["dns"] | undefined;
  if (cfg.dns && !cfg.dns.enabled) dns = { ...cfg.dns, enabled: false };
  else if (cfg.dns) {
    const zoneId = need(cfg.dns.zoneId, "dns.zoneId", "dns.enabled is true", "set the Cloudflare zone ID of the domain");
    const address = cfg.traefik
      ? need(cfg.traefik.loadBalancerIp, "traefik.loadBalancerIp", "dns.enabled is true and the records point at Traefik", "pin Traefik's address inside metallb.range")
      : undefined;
    // cert-manager already asked for the token when it is on; one message is enough.
    const certManagerAsked =
      cfg.certManager?.enabled === true &&
      (cfg.domain === undefined || cfg.domains === undefined || needsCloudflareDns01({ domain: cfg.domain, domains: cfg.domains, certManager: cfg.certManager }));
    const apiToken = certManagerAsked
      ? secrets.present("cloudflareApiToken")
        ? secrets.value("cloudflareApiToken")
        : undefined
      : secret("cloudflareApiToken", "dns.enabled is true");
    if (zoneId !== undefined && address !== undefined && apiToken !== undefined) dns = { ...cfg.dns, enabled: true, zoneId, address, apiToken };
  }

  let externalDns: Homelab<S>["externalDns"] | undefined;
  if (cfg.externalDns && !cfg.externalDns.enabled) externalDns = { ...cfg.externalDns, enabled: false };
  else if (cfg.externalDns) {
    const e = cfg.externalDns;
    const chartVersion = pin("externalDns", "externalDns.enabled is true", "pin the external-dns chart version, e.g. 1.21.1");
    let target: ExternalDnsTarget<S> | undefined;
    if (e.provider === "cloudflare") {
      // cert-manager or the DNS records already asked for the token when they are on; one message is enough.
      const asked = cfg.certManager?.enabled === true || cfg.dns?.enabled === true;
      const apiToken = asked
        ? secrets.present("cloudflareApiToken")
          ? secrets.value("cloudflareApiToken")
          : undefined
        : secret("cloudflareApiToken", "externalDns.provider is cloudflare");
      if (apiToken !== undefined) target = { provider: "cloudflare", apiToken };
    } else if (e.provider === "pihole") {
      // Pi-hole v6 answers its API only after a login with the web password.
      const password = secret("piholePassword", "externalDns.provider is pihole (Pi-hole's API login)");
      if (password !== undefined && e.pihole !== undefined) target = { provider: "pihole", ...e.pihole, password };
    }
    // A missing provider or server is reported by externalDnsChecks.
    if (chartVersion !== undefined && target !== undefined) externalDns = { ...e, enabled: true, chartVersion, target };
    else incomplete = true;
  }

  if (errors.length > 0 || incomplete || !isComplete(cfg)) return { errors, model: undefined };
  if (!metallb || !certManager || !storage || !monitoring || !flux || !dns || !externalDns || !firstServer) return { errors, model: undefined };
  return { errors, model: { ...cfg, metallb, certManager, storage, monitoring, flux, dns, externalDns, machines, firstServer, devicePlugin, etcdSnapshots } };
}
