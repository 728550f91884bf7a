// The one serializer for generated YAML and JSON: stable key order, and text that YAML 1.1 readers
// (cloud-init, k3s, Helm) read back as exactly the data that was written.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { sortKeys, toJson, toYaml } from "../src/lib/serialize";

describe("serialize", () => {
  test("sortKeys sorts keys at every level, keeps list order and drops undefined entries", () => {
    const out = sortKeys({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } });
    assert.equal(JSON.stringify(out), '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  test("equal data renders to equal text whatever the key order", () => {
    assert.equal(toYaml({ b: 1, a: [2, 1] }), toYaml({ a: [2, 1], b: 1 }));
    assert.equal(toYaml({ b: 1, a: [2, 1] }), "a:\n  - 2\n  - 1\nb: 1\n");
    assert.equal(toJson({ b: 1, a: { d: 1, c: 2 } }), '{"a":{"c":2,"d":1},"b":1}');
  });

  test("strings a YAML 1.1 reader would take for booleans, numbers or dates stay strings", () => {
    const data = { words: ["yes", "no", "on", "off", "y", "n", "Yes", "OFF"], mode: "0644", day: "2026-01-01", big: "1_000", n: "keep" };
    const text = toYaml(data);
    assert.deepEqual(parse(text, { version: "1.1" }), data, text);
    assert.deepEqual(parse(text), data, text);
    assert.match(text, /^ {2}- "on"$/m);
  });

  test("no folding of long lines and no anchors for repeated objects", () => {
    const long = "x ".repeat(200).trim();
    const shared = { k: "v" };
    const text = toYaml({ long, a: shared, b: shared });
    assert.equal(text.split("\n").filter((l) => l.startsWith("long:")).length, 1);
    assert.ok(text.includes(`long: ${long}\n`));
    assert.doesNotMatch(text, /[&*]a1/);
  });
});
