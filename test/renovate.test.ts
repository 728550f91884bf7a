// renovate.json: valid for Renovate's own JSON schema (the one published with renovate 44.121.2,
// vendored in test/support), and its custom managers really find every version pinned in every
// stack file. The managers' regexes are applied here as Renovate applies them (matchStrings with
// the g flag; "any" takes each match, "recursive" narrows match by match; the templates filled
// from the named groups), and their datasources are checked against the sources the code uses.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import Ajv from "ajv";
import jsonata from "jsonata";
import { parse } from "yaml";
import { CATALOG } from "../src/apps/catalog";
import { DEVICE_PLUGIN_CHART, DEVICE_PLUGIN_REPO } from "../src/cluster/nvidia";
import { versionsSchema } from "../src/config/schema";
import { FLUX_OPERATOR_CHART } from "../src/platform/fluxRender";

const ROOT = join(__dirname, "..");
const read = (f: string) => readFileSync(join(ROOT, f), "utf8");

interface Manager {
  customType: string;
  description: string;
  managerFilePatterns: string[];
  matchStrings: string[];
  matchStringsStrategy?: "any" | "recursive" | "combination";
  depNameTemplate?: string;
  packageNameTemplate?: string;
  datasourceTemplate?: string;
  registryUrlTemplate?: string;
  versioningTemplate?: string;
  extractVersionTemplate?: string;
}
interface RenovateConfig {
  customManagers: Manager[];
  customDatasources: Record<string, { defaultRegistryUrlTemplate: string; format: string; transformTemplates: string[] }>;
  packageRules: Record<string, unknown>[];
  [key: string]: unknown;
}
const config = JSON.parse(read("renovate.json")) as RenovateConfig;
const schema = JSON.parse(read("test/support/renovate-schema.json")) as { properties: Record<string, unknown>; definitions: Record<string, any> };

/** Stack files: the project's stacks, the example stacks, and the reference (itself a valid stack). */
const STACK_FILES = [
  ...readdirSync(ROOT)
    .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
    .sort(),
  ...readdirSync(join(ROOT, "stacks"))
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => `stacks/${f}`),
  "docs/config-reference.yaml",
];

describe("renovate.json against Renovate's JSON schema", () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  // The schema marks regexes (extractVersion, ...) with format "regex".
  ajv.addFormat("regex", {
    validate: (s: string) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    },
  });
  const validate = ajv.compile(schema);

  test("the vendored schema is Renovate's", () => {
    assert.equal((schema as unknown as Record<string, string>)["x-renovate-version"], "44.121.2");
    assert.equal(config.$schema, "https://docs.renovatebot.com/renovate-schema.json");
  });

  test("validates, and the validator rejects a broken config", () => {
    assert.equal(validate(config), true, JSON.stringify(validate.errors, null, 2));
    const broken = structuredClone(config);
    broken.customManagers[0]!.customType = "regexp";
    (broken as Record<string, unknown>).constraintsFiltering = "lenient";
    assert.equal(validate(broken), false);
    assert.deepEqual(validate.errors!.map((e) => e.instancePath).sort(), ["/constraintsFiltering", "/customManagers/0/customType"]);
  });

  test("uses only options the schema knows (it allows unknown keys; Renovate would ignore them)", () => {
    const known = new Set(Object.keys(schema.properties));
    const itemKeys = (def: string) => new Set(Object.keys(schema.definitions[def].items.allOf[0].properties));
    for (const k of Object.keys(config)) assert.ok(k === "$schema" || known.has(k), `top-level ${k}`);
    const managerKeys = itemKeys("customManagers");
    for (const m of config.customManagers) for (const k of Object.keys(m)) assert.ok(managerKeys.has(k), `customManagers: ${k}`);
    // A package rule takes its match* conditions plus any top-level option (groupName, automerge, ...).
    const ruleKeys = new Set([...itemKeys("packageRules"), ...known]);
    for (const r of config.packageRules) for (const k of Object.keys(r)) assert.ok(ruleKeys.has(k), `packageRules: ${k}`);
    const datasourceKeys = itemKeys("customDatasources");
    for (const d of Object.values(config.customDatasources)) for (const k of Object.keys(d)) assert.ok(datasourceKeys.has(k), `customDatasources: ${k}`);
  });

  test("every regex also runs under RE2, which Renovate prefers (no lookaround, no backreference)", () => {
    for (const m of config.customManagers)
      for (const s of [...m.matchStrings, ...m.managerFilePatterns, m.versioningTemplate ?? "", m.extractVersionTemplate ?? ""]) {
        assert.doesNotMatch(s, /\(\?<?[=!]|\\[1-9]/, `${m.description}: ${s}`);
        // Indentation then the rest of the line, with no overlap between the two: "[ ]{8,}[^\n]*" or
        // "[ \t]+[^\n]*" can split a line many ways, and a failing match then backtracks for minutes
        // in a backtracking engine (JavaScript's, Renovate's fallback, this test's).
        assert.doesNotMatch(s, /(\{\d+,\}|\]\+)\[\^\\n\]\*/, `${m.description}: ambiguous indentation in ${s}`);
      }
  });
});

// --- Renovate's regex custom manager, as lib/modules/manager/custom/regex does it ---------------

interface Dep {
  manager: string;
  depName: string;
  packageName?: string;
  currentValue: string;
  currentDigest?: string;
  datasource: string;
  registryUrl?: string;
  versioning?: string;
  extractVersion?: string;
  replaceString: string;
  /** The named groups of the matches (app: which app entry a version belongs to). */
  groups: Record<string, string | undefined>;
}

/** Renovate's templates are Handlebars; these use only {{{group}}} substitutions. */
function fill(template: string, groups: Record<string, string | undefined>): string {
  assert.doesNotMatch(template.replace(/\{\{\{(\w+)\}\}\}/g, ""), /\{\{/, `only {{{name}}} substitutions: ${template}`);
  return template.replace(/\{\{\{(\w+)\}\}\}/g, (_, name: string) => groups[name] ?? "");
}

function matchAll(pattern: string, content: string): RegExpExecArray[] {
  const re = new RegExp(pattern, "g");
  const out: RegExpExecArray[] = [];
  for (let m = re.exec(content); m; m = re.exec(content)) out.push(m);
  return out;
}

function extract(m: Manager, content: string): Dep[] {
  const found: { groups: Record<string, string | undefined>; replaceString: string }[] = [];
  if ((m.matchStringsStrategy ?? "any") === "any") {
    for (const s of m.matchStrings) for (const x of matchAll(s, content)) found.push({ groups: { ...x.groups }, replaceString: x[0] });
  } else {
    assert.equal(m.matchStringsStrategy, "recursive");
    const walk = (text: string, i: number, groups: Record<string, string | undefined>): void => {
      if (i === m.matchStrings.length) return void found.push({ groups, replaceString: text });
      for (const x of matchAll(m.matchStrings[i]!, text)) walk(x[0], i + 1, { ...groups, ...x.groups });
    };
    walk(content, 0, {});
  }
  return found.map(({ groups, replaceString }) => {
    const field = (name: string): string | undefined => {
      const template = (m as unknown as Record<string, string | undefined>)[`${name}Template`];
      return template !== undefined ? fill(template, groups) : groups[name];
    };
    const dep: Dep = {
      manager: m.description,
      depName: field("depName")!,
      currentValue: field("currentValue")!,
      datasource: field("datasource")!,
      replaceString,
      groups,
    };
    for (const k of ["packageName", "currentDigest", "registryUrl", "versioning", "extractVersion"] as const) {
      const v = field(k);
      if (v !== undefined) dep[k] = v;
    }
    return dep;
  });
}

const filePattern = (p: string): RegExp => {
  assert.match(p, /^\/.+\/$/, `a regex pattern, not a glob: ${p}`);
  return new RegExp(p.slice(1, -1));
};
const managersFor = (file: string) => config.customManagers.filter((m) => m.managerFilePatterns.some((p) => filePattern(p).test(file)));
const depsOf = (file: string) => managersFor(file).flatMap((m) => extract(m, read(file)));

/** What a stack file pins: versions.*, apps.*.version, and each image's dated URL with its checksum. */
interface Pin {
  what: string;
  value: string;
  digest?: string;
}
function pinsOf(file: string): Pin[] {
  const c = (parse(read(file)) as { config: Record<string, any> }).config;
  const pins: Pin[] = [];
  // The toolkit's apt version (1.17.8-1): Renovate tracks the upstream release, the package revision stays.
  for (const [k, v] of Object.entries(c["homelab:versions"] ?? {}))
    pins.push({ what: `versions.${k}`, value: k === "nvidiaContainerToolkit" ? String(v).replace(/-\d+$/, "") : String(v) });
  for (const [name, app] of Object.entries<any>(c["homelab:apps"] ?? {})) {
    pins.push({ what: `apps.${name}.version`, value: String(app.version) });
    if (app.custom?.image) pins.push({ what: `apps.${name}.custom.image.tag`, value: String(app.custom.image.tag) });
  }
  for (const [name, image] of Object.entries<any>(c["homelab:images"] ?? {})) {
    const date = /\/release-(\d{8})\//.exec(image.url)?.[1];
    assert.ok(date, `${file}: images.${name}.url is not a dated release URL`);
    pins.push({ what: `images.${name}`, value: date, digest: image.checksum });
  }
  return pins;
}

/** Which dependency each pin must become (datasource and where it is looked up). */
const CHART_REPOS = Object.fromEntries(
  [...read("src/system/charts.ts").matchAll(/^ {2}(\w+): \{ repo: "([^"]+)", chart: "([^"]+)" \}/gm)].map(([, key, repo, chart]) => [key!, { repo: repo!, chart: chart! }]),
);
const APP_TEMPLATE_DEP = { datasource: "docker", packageName: "ghcr.io/bjw-s-labs/helm/app-template" };
function expectedDep(pin: Pin, file: string): Partial<Dep> {
  const key = pin.what.split(".")[1]!;
  if (pin.what.startsWith("versions.")) {
    if (key === "k3s") return { datasource: "github-releases", packageName: "k3s-io/k3s" };
    if (key === "flux") return { datasource: "github-releases", packageName: "fluxcd/flux2" };
    if (key === "fluxOperator") return { datasource: "docker", packageName: FLUX_OPERATOR_CHART.replace(/^oci:\/\//, "") };
    if (key === "nvidiaDevicePlugin") return { datasource: "helm", depName: DEVICE_PLUGIN_CHART, registryUrl: DEVICE_PLUGIN_REPO };
    if (key === "democraticCsiDriver") return { datasource: "docker", packageName: "ghcr.io/democratic-csi/democratic-csi" };
    if (key === "nvidiaContainerToolkit") return { datasource: "github-tags", packageName: "NVIDIA/nvidia-container-toolkit", extractVersion: "^v(?<version>\\d+\\.\\d+\\.\\d+)$" };
    const chart = CHART_REPOS[key];
    assert.ok(chart, `versions.${key}: no chart in src/system/charts.ts`);
    return { datasource: "helm", depName: chart.chart, registryUrl: chart.repo };
  }
  if (pin.what.startsWith("apps.")) {
    const custom = (parse(read(file)) as { config: Record<string, any> }).config["homelab:apps"][key].custom;
    if (custom?.image && pin.what.endsWith(".tag")) return { datasource: "docker", depName: custom.image.repository };
    if (custom?.image) return APP_TEMPLATE_DEP;
    if (custom?.chart) {
      const repo: string = custom.chart.repository;
      return repo.startsWith("oci://") ? { datasource: "docker", packageName: repo.slice("oci://".length) } : { datasource: "helm", depName: custom.chart.name, registryUrl: repo };
    }
    const source = CATALOG.get(key)!.source;
    if (source.kind === "oci") return { datasource: "docker", packageName: source.url.replace(/^oci:\/\//, "") };
    return { datasource: "helm", depName: source.chart, registryUrl: source.url };
  }
  return { datasource: "custom.ubuntu-cloud-images", packageName: "com.ubuntu.cloud:server:24.04:amd64", currentDigest: pin.digest! };
}

describe("the custom managers find every pinned version in every stack file", () => {
  test("the chart table was read from the code", () => {
    assert.deepEqual(Object.keys(CHART_REPOS).sort(), [
      "alloy",
      "certManager",
      "csiDriverNfs",
      "democraticCsi",
      "externalDns",
      "kubePrometheusStack",
      "loki",
      "longhorn",
      "metallb",
    ]);
  });

  for (const file of STACK_FILES) {
    test(file, () => {
      const deps = depsOf(file);
      const pins = pinsOf(file);
      assert.ok(pins.some((p) => p.what === "versions.k3s"));
      for (const pin of pins) {
        const app = pin.what.startsWith("apps.") ? pin.what.split(".")[1] : undefined;
        const hits = deps.filter((d) => d.currentValue === pin.value && d.currentDigest === pin.digest && d.groups.app === app);
        const want = expectedDep(pin, file);
        const right = hits.filter((d) => Object.entries(want).every(([k, v]) => d[k as keyof Dep] === v));
        assert.equal(right.length, 1, `${file}: ${pin.what} = ${pin.value} found by ${right.length} managers with ${JSON.stringify(want)}; candidates ${JSON.stringify(hits)}`);
      }
      // Nothing else is picked up: one dependency per pin.
      assert.equal(deps.length, pins.length, `${file}: ${JSON.stringify(deps.map((d) => `${d.depName}=${d.currentValue}`))}`);
      // Each version is one Renovate can compare: its versioning scheme reads it.
      for (const d of deps) if (d.versioning?.startsWith("regex:")) assert.match(d.currentValue, new RegExp(d.versioning.slice(6)), `${d.depName} ${d.currentValue}`);
    });
  }

  test("a custom app's chart from an https:// repository (no stack file has one yet)", () => {
    const text = [
      "config:",
      "  homelab:apps:",
      "    paperless-ai:",
      "      version: 3.0.2                      # the chart's version",
      "      custom:",
      "        chart:",
      "          repository: https://charts.example.org/stable",
      "          name: paperless-ai",
      "",
    ].join("\n");
    const deps = managersFor("stacks/example.yaml").flatMap((m) => extract(m, text));
    assert.deepEqual(
      deps.map((d) => [d.datasource, d.depName, d.registryUrl, d.currentValue, d.groups.app]),
      [["helm", "paperless-ai", "https://charts.example.org/stable", "3.0.2", "paperless-ai"]],
    );
  });

  test("every catalog app has a manager for its chart", () => {
    const apps = new Set(
      config.customManagers
        .filter((m) => m.matchStrings[0]!.startsWith("homelab:apps:") && m.matchStrings[1]!.includes("(?<app>") && !m.matchStrings[1]!.includes("[a-z0-9]"))
        .flatMap((m) => /\(\?<app>([^)]+)\):/.exec(m.matchStrings[1]!)![1]!.split("|")),
    );
    assert.deepEqual([...apps].sort(), [...CATALOG.keys()].sort());
  });

  test("a manager's file patterns cover the stack files and nothing else of the tree's YAML", () => {
    const stackManagers = config.customManagers.filter((m) => !m.managerFilePatterns.some((p) => p.includes(".github")));
    for (const file of STACK_FILES) assert.equal(managersFor(file).length, stackManagers.length, file);
    for (const other of ["Pulumi.yaml", "apps/n8n/values.yaml", "test/fixtures/valid/ha-gpu.yaml", ".github/workflows/up.yml"])
      assert.deepEqual(
        managersFor(other).filter((m) => stackManagers.includes(m)),
        [],
        other,
      );
  });
});

describe("the container toolkit: Renovate moves the release, the package revision stays", () => {
  const [manager] = config.customManagers.filter((m) => m.depNameTemplate === "nvidia-container-toolkit");
  test("a new release (tag v1.18.0) rewrites 1.17.8-1 to 1.18.0-1, which the config check accepts", () => {
    const lab = read("Pulumi.lab.yaml");
    const [dep] = extract(manager!, lab);
    assert.deepEqual([dep!.currentValue, dep!.replaceString], ["1.17.8", "    nvidiaContainerToolkit: 1.17.8-1"]);
    const bumped = lab.replace(dep!.replaceString, dep!.replaceString.replace(dep!.currentValue, "1.18.0"));
    const versions = (parse(bumped) as { config: Record<string, any> }).config["homelab:versions"];
    assert.equal(versions.nvidiaContainerToolkit, "1.18.0-1");
    assert.equal(versionsSchema.safeParse(versions).success, true);
    // Tags are v1.18.0; release candidates (v1.18.0-rc.1) do not match the extraction.
    const extract_ = new RegExp(dep!.extractVersion!);
    assert.equal(extract_.exec("v1.18.0")?.groups?.version, "1.18.0");
    assert.equal(extract_.exec("v1.18.0-rc.1"), null);
  });
  test("the config check refuses a version that is not an apt version", () => {
    const r = versionsSchema.safeParse({ k3s: "v1.34.2+k3s1", nvidiaContainerToolkit: "1.17.8" });
    assert.equal(r.success, false);
    assert.deepEqual(
      r.error!.issues.map((i) => [i.path.join("."), i.message]),
      [["nvidiaContainerToolkit", "must be the toolkit's apt version as NVIDIA's install guide pins it, such as 1.17.8-1"]],
    );
  });
});

describe("the cloud images: the checksum moves with the URL", () => {
  const managers = config.customManagers.filter((m) => m.datasourceTemplate === "custom.ubuntu-cloud-images");

  test("one match spans url, checksum and fileName, so Renovate's replacement moves all three", () => {
    const [dep] = extract(managers[0]!, read("Pulumi.lab.yaml"));
    assert.ok(dep);
    const lab = read("Pulumi.lab.yaml");
    // Renovate replaces every occurrence of the version in the match (autoReplaceGlobalMatch,
    // default true) and the digest.
    assert.notEqual(config.autoReplaceGlobalMatch, false);
    const replaced = dep.replaceString.replaceAll(dep.currentValue, "20260115").replace(dep.currentDigest!, "f".repeat(64));
    const image = (parse(lab.replace(dep.replaceString, replaced)) as { config: Record<string, any> }).config["homelab:images"]["ubuntu-noble"];
    assert.deepEqual(image, {
      url: "https://cloud-images.ubuntu.com/releases/noble/release-20260115/ubuntu-24.04-server-cloudimg-amd64.img",
      checksum: "f".repeat(64),
      fileName: "ubuntu-24.04-server-cloudimg-amd64-20260115.qcow2",
    });
  });

  test("the custom datasource turns Canonical's simplestreams index into releases with their sha256", async () => {
    const ds = config.customDatasources["ubuntu-cloud-images"]!;
    assert.equal(ds.format, "json");
    const packageName = "com.ubuntu.cloud:server:24.04:amd64";
    const index = {
      format: "products:1.0",
      products: {
        "com.ubuntu.cloud:server:22.04:amd64": { release: "jammy", versions: { "20251201": { items: { "disk1.img": { sha256: "a".repeat(64) } } } } },
        [packageName]: {
          arch: "amd64",
          release: "noble",
          versions: {
            "20251213": { items: { "disk1.img": { path: "server/releases/noble/release-20251213/ubuntu-24.04-server-cloudimg-amd64.img", sha256: "b".repeat(64) } } },
            "20260115": { items: { "disk1.img": { path: "server/releases/noble/release-20260115/ubuntu-24.04-server-cloudimg-amd64.img", sha256: "c".repeat(64) } } },
          },
        },
      },
    };
    let data: unknown = index;
    for (const t of ds.transformTemplates) data = await jsonata(fill(t, { packageName })).evaluate(data);
    assert.deepEqual(JSON.parse(JSON.stringify(data)), {
      releases: [
        { version: "20251213", digest: "b".repeat(64) },
        { version: "20260115", digest: "c".repeat(64) },
      ],
    });
  });

  test("images are their own group, with the note in every PR", () => {
    const rule = config.packageRules.find((r) => JSON.stringify(r.matchDatasources) === '["custom.ubuntu-cloud-images"]')!;
    assert.equal(rule.groupName, "cloud images");
    assert.equal(rule.automerge, false);
    assert.match(String((rule.prBodyNotes as string[])[0]), /^The checksum moves with the URL: /);
  });
});

describe("the rest of the pins", () => {
  test("the Pulumi CLI of the workflows is found, and moves with the SDK in one group", () => {
    const m = config.customManagers.find((x) => x.depNameTemplate === "pulumi")!;
    for (const f of ["pr-preview.yml", "up.yml"]) {
      const deps = managersFor(`.github/workflows/${f}`).flatMap((x) => extract(x, read(`.github/workflows/${f}`)));
      assert.deepEqual(
        deps.map((d) => [d.manager, d.currentValue, d.packageName]),
        [[m.description, "3.248.0", "pulumi/pulumi"]],
        f,
      );
    }
    assert.ok(config.packageRules.some((r) => r.groupName === "pulumi" && JSON.stringify(r.matchPackageNames) === '["@pulumi/pulumi","pulumi/pulumi"]'));
  });

  test("the actions stay pinned by commit sha, their full release in the comment, and Renovate moves both", () => {
    // renovatebot/renovate lib/config/presets/internal/helpers.preset.ts: pinGitHubActionDigestsToSemver
    // extends pinGitHubActionDigests (packageRules matchDepTypes ["action"], pinDigests: true) and
    // takes versions by extractVersion "^(?<version>v\\d+\\.\\d+\\.\\d+)$" (so v7.0.1, never v7).
    assert.deepEqual(config.extends, ["config:recommended", "helpers:pinGitHubActionDigestsToSemver"]);
    const extractVersion = /^(?<version>v\d+\.\d+\.\d+)$/;
    const workflows = readdirSync(join(ROOT, ".github", "workflows")).filter((f) => f.endsWith(".yml"));
    let pins = 0;
    for (const f of workflows)
      for (const line of read(`.github/workflows/${f}`)
        .split("\n")
        .filter((l) => /^\s*(- )?uses:/.test(l))) {
        const m = /uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # (\S+)$/.exec(line);
        assert.ok(m, `${f}: ${line.trim()}`);
        assert.match(m[1]!, extractVersion, `${f}: ${line.trim()}`);
        pins++;
      }
    assert.equal(pins, 18);
  });

  test("@pulumi/command stays on 1.x and Node on 22, and updates respect package.json engines", () => {
    const allowed = (name: string) => config.packageRules.find((r) => (r.matchPackageNames as string[] | undefined)?.includes(name))?.allowedVersions;
    assert.equal(allowed("@pulumi/command"), "<2");
    assert.equal(allowed("node"), "<23");
    assert.equal(allowed("@types/node"), "<23");
    assert.equal(config.constraintsFiltering, "strict");
  });
});

test("versions.democraticCsiDriver: a release tag, or next pinned by digest (Renovate then follows the digest)", () => {
  const m = config.customManagers.find((x) => x.description.startsWith("versions.democraticCsiDriver:"))!;
  const content = (v: string) => `config:\n  homelab:versions:\n    k3s: v1.34.2+k3s1\n    democraticCsiDriver: ${v}\n`;
  const pick = (d: Dep) => ({ currentValue: d.currentValue, currentDigest: d.currentDigest, packageName: d.packageName, datasource: d.datasource });
  assert.deepEqual(extract(m, content("v1.9.4")).map(pick), [
    { currentValue: "v1.9.4", currentDigest: undefined, packageName: "ghcr.io/democratic-csi/democratic-csi", datasource: "docker" },
  ]);
  const digest = `sha256:${"0".repeat(64)}`;
  assert.deepEqual(extract(m, content(`next@${digest}`)).map(pick), [
    { currentValue: "next", currentDigest: digest, packageName: "ghcr.io/democratic-csi/democratic-csi", datasource: "docker" },
  ]);
});
