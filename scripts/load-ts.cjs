// Loads the project's TypeScript files in Node 22 (`node --require ./scripts/load-ts.cjs file.ts`),
// with two caches under node_modules/.cache (a fresh clone fills them on its first run).
//
// 1. TypeScript. tsx inspected every JavaScript file Node loads, and the SDK and providers are
//    about a thousand of them: a plan took 2.4 times as long as loading the SDK. This hook touches
//    only `.ts` files: each is transformed once by esbuild (the transform tsx uses, same options)
//    and kept in homelab-ts/, one file per source file, keyed by a hash of the source, the tsconfig
//    and the esbuild version; later runs read it and never load esbuild. Like tsx it does not
//    type-check (`npm run typecheck`; the suite runs tsc). Unlike tsx it has no ES-module hooks:
//    `await import()` of a package works (the ESM-only @kubernetes-models), of a .ts file does not
//    (import it statically, or require it).
// 2. V8 code. Node parses the SDK's ~16 MB of JavaScript (typescript.js alone is 9 MB) on every
//    start, which was about a third of a plan. Node 22's own module.enableCompileCache()
//    (NODE_COMPILE_CACHE) measured no faster than no cache at all for a lab plan (1.05-1.27 s
//    against 1.11-1.23 s; this cache 0.76-1.02 s). So the CommonJS files under node_modules are compiled with the code V8 cached
//    for them in homelab-v8/ (keyed by the file's inode, size and times; V8 rejects data from another V8 or other flags,
//    and the file is then rewritten). HOMELAB_NO_CODE_CACHE=1 turns it off.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const CACHE = path.join(ROOT, "node_modules", ".cache", "homelab-ts");

let esbuild;
let salt;
/** What, besides a file's source, decides its output: the tsconfig, esbuild, Node's target. */
function cacheSalt() {
  if (salt === undefined) {
    const esbuildVersion = JSON.parse(fs.readFileSync(require.resolve("esbuild/package.json"), "utf8")).version;
    salt = `${esbuildVersion}\0${process.versions.node}\0${fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")}\0`;
  }
  return salt;
}

function transform(source, filename) {
  esbuild ??= require("esbuild");
  const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8"));
  return esbuild.transformSync(source, {
    loader: "ts",
    format: "cjs",
    target: `node${process.versions.node}`,
    sourcefile: filename,
    sourcemap: "inline",
    sourcesContent: false,
    // As tsx: class and function names survive the transform.
    keepNames: true,
    tsconfigRaw: { compilerOptions: tsconfig.compilerOptions },
  }).code;
}

function compiled(source, filename) {
  const hash = crypto.createHash("sha256").update(cacheSalt()).update(source).digest("hex");
  const cached = path.join(CACHE, `${crypto.createHash("sha256").update(filename).digest("hex").slice(0, 32)}.js`);
  const header = `//${hash}\n`;
  try {
    const text = fs.readFileSync(cached, "utf8");
    if (text.startsWith(header)) return text.slice(header.length);
  } catch {
    // not cached yet
  }
  const code = transform(source, filename);
  // Parallel test processes may compile the same file: write aside, then rename (atomic).
  fs.mkdirSync(CACHE, { recursive: true });
  const tmp = `${cached}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, header + code);
  fs.renameSync(tmp, cached);
  return code;
}

// Stack traces name TypeScript lines (as under tsx). Plans turn it off while they run (src/plan/run.ts).
process.setSourceMapsEnabled(true);

Module._extensions[".ts"] = function loadTs(module, filename) {
  module._compile(compiled(fs.readFileSync(filename, "utf8"), filename), filename);
};

// --- 2. V8 code cache for the CommonJS files under node_modules ----------------------------------
const vm = require("node:vm");

const IMPORT_DYNAMICALLY = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
const CODE_CACHE = path.join(ROOT, "node_modules", ".cache", "homelab-v8", process.versions.v8);
const NODE_MODULES = `${path.sep}node_modules${path.sep}`;

/** Scripts compiled without usable cached data this run: their code is saved at exit. */
const toSave = [];

function cachedScript(wrapper, filename) {
  // The file's identity as git's index tracks it (inode, size, change and modification times):
  // any rewrite of the file changes its ctime. Hashing the content instead cost more than it saved.
  const st = fs.statSync(filename, { bigint: true });
  const key = crypto.createHash("sha1").update(`${st.ino}:${st.size}:${st.ctimeNs}:${st.mtimeNs}`).digest();
  const file = path.join(CODE_CACHE, `${crypto.createHash("sha1").update(filename).digest("hex")}.bin`);
  let data;
  try {
    const bytes = fs.readFileSync(file);
    if (bytes.subarray(0, key.length).equals(key)) data = bytes.subarray(key.length);
  } catch {
    // not cached yet
  }
  // The same options Node's own compile uses, plus the cached code.
  const script = new vm.Script(wrapper, { filename, cachedData: data, importModuleDynamically: IMPORT_DYNAMICALLY });
  if (data === undefined || script.cachedDataRejected) toSave.push({ file, key, script });
  return script;
}

function saveCodeCache() {
  if (toSave.length === 0) return;
  try {
    fs.mkdirSync(CODE_CACHE, { recursive: true });
    for (const { file, key, script } of toSave) {
      // After the run, so the functions that ran are in it too (V8 compiles lazily).
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, Buffer.concat([key, script.createCachedData()]));
      fs.renameSync(tmp, file);
    }
  } catch {
    // A cache that cannot be written (read-only tree) only costs speed.
  }
}

// Node releases without USE_MAIN_CONTEXT_DEFAULT_LOADER cannot give a vm.Script Node's loader for import(): compile as Node does.
if (IMPORT_DYNAMICALLY !== undefined && process.env.HOMELAB_NO_CODE_CACHE !== "1") {
  const nodeCompile = Module.prototype._compile;
  Module.prototype._compile = function compileWithCache(content, filename, format) {
    // ES modules, and the project's own files (which keep Node's source-map handling), as Node does.
    if (format === "module" || !filename.includes(NODE_MODULES) || !/\.c?js$/.test(filename)) return nodeCompile.call(this, content, filename, format);
    // As Node's makeRequireFunction (lib/internal/modules/helpers.js) builds `require`.
    const mod = this;
    const require = (id) => mod.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
    require.main = process.mainModule;
    require.extensions = Module._extensions;
    require.cache = Module._cache;
    // A leading #! line is not JavaScript inside the wrapper: blank it, keeping the line count.
    const source = content.startsWith("#!") ? `//${content.slice(2)}` : content;
    const wrapper = cachedScript(Module.wrap(source), filename).runInThisContext({ displayErrors: true });
    return Reflect.apply(wrapper, mod.exports, [mod.exports, require, mod, filename, path.dirname(filename)]);
  };
  process.once("exit", saveCodeCache);
}
