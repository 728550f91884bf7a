// npm run -s adopt -- (--stack <name> | --config <file>) [--output <file>] | --inventory <dir> --output <draft.yaml>
//
// Adopting a running lab: see "Adopting a running lab" in the README.
import { runAdoptCli } from "../src/adopt/cli";

runAdoptCli(process.argv.slice(2), {
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
