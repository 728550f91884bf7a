// A Pulumi program outside this project would write it: one VM and one MetalLB pool, from the
// package entry point only (`homelab-infra`, resolved through package.json `exports`), with the
// defaults for everything not given. test/library.test.ts runs it under the recording monitor.
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MetalLbPool, ProxmoxVm } from "homelab-infra";

export function outsideProgram(): Record<string, pulumi.Input<unknown>> {
  const config = new pulumi.Config("outside");
  const proxmoxve = new proxmox.Provider("pve", { endpoint: "https://10.1.0.2:8006/", apiToken: config.requireSecret("proxmoxApiToken") });
  const image = new proxmox.download.File(
    "noble",
    {
      nodeName: "pve",
      datastoreId: "local",
      contentType: "import",
      url: "https://cloud-images.ubuntu.com/releases/noble/release-20251213/ubuntu-24.04-server-cloudimg-amd64.img",
      fileName: "noble-20251213.qcow2",
      overwrite: false,
    },
    { provider: proxmoxve },
  );
  const vm = new ProxmoxVm(
    "dns",
    {
      nodeName: "pve",
      vmId: 300,
      hostname: "dns",
      address: "10.1.0.53/24",
      gateway: "10.1.0.1",
      imageFileId: image.id,
      tags: ["pihole", "dns"],
      authorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOutsideProgramKey me@laptop"],
      sshPrivateKey: config.requireSecret("sshPrivateKey"),
    },
    { providers: { proxmoxve } },
  );
  const cluster = new k8s.Provider("cluster", { kubeconfig: config.requireSecret("kubeconfig") });
  const pool = new MetalLbPool("lb", { chartVersion: "0.15.2", range: "10.1.0.200-10.1.0.220" }, { provider: cluster });
  return { vmAddress: vm.ipAddress, poolReady: pool.ready.map((r) => r.urn) };
}
