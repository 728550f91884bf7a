// Config checks of custom apps (`apps.<name>.custom`), beyond what their schema says: the name
// (it names the release, namespace and claims), exactly one source, a pinned image, and the keys
// that only make sense for an image app or only for a chart. Pure; run by appChecks.
import type { AppConfig } from "../config/schema";
import { CATALOG } from "./catalog";

/** Helm release names are at most 53 characters; the app name is the release name. */
export const MAX_CUSTOM_NAME = 53;
const NAME_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Tags that name no release: they move, so the same stack would run different code over time. */
const MOVING_TAGS = new Set(["latest", "stable", "main", "master", "rolling", "nightly", "edge", "dev", "develop"]);

/** Errors of one custom app entry; empty when it is sound. */
export function customAppChecks(name: string, entry: AppConfig): string[] {
  const c = entry.custom;
  if (c === undefined) return [];
  const at = `apps.${name}.custom`;
  const errors: string[] = [];
  if (CATALOG.has(name)) {
    return [`${at}: ${name} is a catalog app; remove custom to use the catalog's ${name}, or give the custom app another name`];
  }
  if (!NAME_RE.test(name) || name.length > MAX_CUSTOM_NAME) {
    errors.push(
      `apps.${name}: a custom app's name names its release, namespace and claims; use a DNS label of at most ${MAX_CUSTOM_NAME} characters (lowercase letters, digits and '-')`,
    );
  }
  if ((c.chart === undefined) === (c.image === undefined)) {
    errors.push(`${at}: set exactly one of chart (a Helm chart) and image (a container image run on app-template)`);
    return errors;
  }
  if (c.chart !== undefined) {
    const oci = c.chart.repository.startsWith("oci://");
    if (!oci && c.chart.name === undefined) errors.push(`${at}.chart.name: is required for an https:// Helm repository; set the chart's name in that repository`);
    if (oci && c.chart.name !== undefined) errors.push(`${at}.chart.name: an oci:// repository is the chart itself; remove name`);
    if (c.service !== undefined && c.service.name === undefined) {
      errors.push(`${at}.service.name: is required for a chart; set the name of the Service the chart creates for its web port`);
    }
    if (Object.keys(c.env).length > 0) errors.push(`${at}.env: only an image app takes env; set the chart's own values under apps.${name}.values`);
    c.secrets.forEach((s, i) => {
      if (s.env !== undefined) errors.push(`${at}.secrets[${i}].env: only an image app reads secrets as env; remove env and reference ${name}-secrets in the chart's values`);
    });
    c.volumes.forEach((v, i) => {
      if (v.mountPath !== undefined)
        errors.push(`${at}.volumes[${i}].mountPath: a chart mounts its claims itself; remove mountPath and pass existingClaim ${name}-${v.name} in apps.${name}.values`);
    });
  } else {
    const tag = c.image!.tag;
    if (MOVING_TAGS.has(tag.toLowerCase()) || !/\d/.test(tag)) {
      errors.push(`${at}.image.tag: ${JSON.stringify(tag)} moves with every release; pin a release tag such as 1.2.3`);
    }
    if (c.service?.name !== undefined && c.service.name !== name) {
      errors.push(`${at}.service.name: an image app's Service is named after the app (${name}); remove name`);
    }
    c.volumes.forEach((v, i) => {
      if (v.mountPath === undefined) errors.push(`${at}.volumes[${i}].mountPath: is required for an image app; set where the container mounts ${v.name}`);
    });
    const envs = new Map<string, string>(Object.keys(c.env).map((k) => [k, `${at}.env`]));
    c.secrets.forEach((s, i) => {
      if (s.env === undefined) return;
      const other = envs.get(s.env);
      if (other !== undefined) errors.push(`${at}.secrets[${i}].env: ${s.env} is also set by ${other}; give each variable one source`);
      else envs.set(s.env, `${at}.secrets[${i}]`);
    });
    const paths = new Map<string, string>();
    c.volumes.forEach((v, i) => {
      if (v.mountPath === undefined) return;
      const other = paths.get(v.mountPath);
      if (other !== undefined) errors.push(`${at}.volumes[${i}].mountPath: ${v.mountPath} is also the mount path of ${other}; mount each volume at its own path`);
      else paths.set(v.mountPath, `volume ${JSON.stringify(c.volumes[i].name)}`);
    });
    if (c.mediaLibrary && paths.has("/media")) errors.push(`${at}.mediaLibrary: the media library mounts at /media, which a volume already uses; move that volume`);
  }
  if (entry.storageSize !== undefined && c.volumes.length === 0) {
    errors.push(`apps.${name}.storageSize: sizes the first of custom.volumes, and there is none; remove storageSize or declare a volume`);
  }
  const volumeNames = new Set<string>();
  c.volumes.forEach((v, i) => {
    if (volumeNames.has(v.name)) errors.push(`${at}.volumes[${i}].name: ${v.name} is used twice; give each volume its own name`);
    volumeNames.add(v.name);
  });
  const keys = new Set<string>();
  c.secrets.forEach((s, i) => {
    if (keys.has(s.key)) errors.push(`${at}.secrets[${i}].key: ${s.key} is used twice; give each secret its own key`);
    keys.add(s.key);
  });
  return errors;
}
