// `npm run build`: the package an outside program installs (`npm pack`, whose prepack runs this).
// Compiles src/ to lib/ with declarations (tsconfig.build.json) and copies the shell scripts the
// components read beside their code at run time (`join(__dirname, "scripts")`); the app values
// (`apps/`) are read from the package root, one level above lib/ as above src/.
import { spawnSync } from "node:child_process";
import { cpSync, rmSync, statSync } from "node:fs";
import { extname, join } from "node:path";

const root = join(__dirname, "..");
rmSync(join(root, "lib"), { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
cpSync(join(root, "src"), join(root, "lib"), { recursive: true, filter: (from) => statSync(from).isDirectory() || extname(from) === ".sh" });
