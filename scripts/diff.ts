// npm run -s diff -- --base A.json --head B.json | --base-ref <ref> (--stack <name> | --config <file> | --all) [--format text|markdown|json]
//
// What `pulumi up` would do to each stack, from two offline plans: see "Reviewing a change" in the README.
import { runDiffCli } from "../src/plan/diffCli";

runDiffCli(process.argv.slice(2), {
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
