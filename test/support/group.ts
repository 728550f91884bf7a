// One test process for several test files (scripts/test.ts writes an entry that calls `group`).
// Every process loads the Pulumi SDK and the providers once, about a second of CPU; a process per
// file paid that thirty-odd times per run. Node 22's `--experimental-test-isolation=none` runs every file in one process (no split over the cores), so the
// files are required here, each inside a suite named after it: its tests, hooks and failures stay
// its own, a file that fails to load fails its suite (the others still run), and the spec reporter
// prints each file's duration on the suite's line. Tests run one at a time in a process, as within
// one file, so the files' plans never overlap (the Pulumi runtime is global state).
import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import { after, before, describe } from "node:test";
import { ROOT } from "../harness";

/** Requires each test file inside its own suite; writes each file's duration (ms) to `timings`. */
export function group(files: readonly string[], timings: string): void {
  const ms: Record<string, number> = {};
  for (const file of files) {
    const name = relative(ROOT, file);
    describe(name, () => {
      let start = 0;
      before(() => {
        start = performance.now();
      });
      after(() => {
        ms[name] = Math.round(performance.now() - start);
      });
      require(file);
    });
  }
  process.once("exit", () => writeFileSync(timings, JSON.stringify(ms)));
}
