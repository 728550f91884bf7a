// Runs src/index.ts the way `pulumi up` loads a TypeScript program (@pulumi/pulumi/cmd/run, non-ESM
// branch): the project's typescript, Pulumi's vendored ts-node 7, our tsconfig; type checking unless
// PULUMI_NODEJS_TRANSPILE_ONLY=true, which Pulumi honours the same way (the test sets it: the suite
// type-checks the project once, with tsc). Resources go to the recording mock monitor.
// Usage: node test/support/pulumi-loader.js <stack>
const path = require("path");
const root = path.resolve(__dirname, "..", "..");
const tsutils = require("@pulumi/pulumi/tsutils");
const pulumi = require("@pulumi/pulumi");
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(path.join(root, "tsconfig.json"));
const tsn = require(tsnodeRequire);
// As @pulumi/pulumi/cmd/run/run.js decides it.
const transpileOnlyEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
tsn.register({
  compiler: typescriptRequire,
  transpileOnly: transpileOnlyEnv ? transpileOnlyEnv === "true" : compilerOptions.noCheck,
  project: path.join(root, "tsconfig.json"),
  skipProject: false,
  compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});
const stack = process.argv[2] || "lab";
(async () => {
  const { parseStackFile } = require(path.join(root, "src/plan/run.ts"));
  const { RecordingMonitor } = require(path.join(root, "src/plan/recorder.ts"));
  const fs = require("fs");
  const sf = parseStackFile(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8"));
  const monitor = new RecordingMonitor();
  pulumi.runtime.setAllConfig(sf.config, sf.secretKeys);
  await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) }, "homelab", stack, false);
  pulumi.runtime.setMockOptions(monitor, "homelab", stack, false);
  await pulumi.runtime.runInPulumiStack(async () => require(path.join(root, "src/index.ts")));
  await pulumi.runtime.disconnect();
  console.log(JSON.stringify({ tsNode: tsn.VERSION, resources: monitor.records.map((r) => r.urn), outputs: Object.keys(monitor.stackOutputs).sort() }));
})().catch((e) => {
  console.error("FAILED:", e && e.message ? e.message.slice(0, 3000) : e);
  process.exit(1);
});
