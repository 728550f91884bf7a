// npm run plan -- --stack <name> | --config <file> [--format tree|json|mermaid] [--critical-path]
//
// Runs the real program offline under Pulumi's mock runtime and prints the resource graph.
// `secure:` values are replaced by placeholders that stay secret; no secret value is ever printed.
import { runCli } from "../src/plan/cli";

runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
