// relay-client.d.ts must match relay-client.js: same exports and members, and both type-check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as mod from "../relay-client.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const dts = readFileSync(new URL("../relay-client.d.ts", import.meta.url), "utf8");

/** Member names declared in the body of `export declare class <name>`. */
function declaredMembers(name) {
  const m = dts.match(new RegExp(`export declare class ${name}\\b[^{]*\\{([\\s\\S]*?)\\n\\}`));
  assert.ok(m, `class ${name} not declared`);
  const body = m[1].replace(/\/\*\*[\s\S]*?\*\//g, "");
  const fields = [...body.matchAll(/^\s+(\w+)\??:/gm)].map((x) => x[1]);
  const methods = [...body.matchAll(/^\s+(\w+)\(/gm)].map((x) => x[1]).filter((x) => x !== "constructor");
  return { fields: fields.sort(), methods: methods.sort() };
}
const publicKeys = (o) => Object.keys(o).filter((k) => !k.startsWith("_")).sort();
const protoMethods = (C) => Object.getOwnPropertyNames(C.prototype).filter((k) => k !== "constructor" && !k.startsWith("_")).sort();

test("runtime exports equal the declared value exports", () => {
  const declared = [...dts.matchAll(/^export declare (?:class|function|const) (\w+)/gm)].map((m) => m[1]).sort();
  assert.deepEqual(Object.keys(mod).sort(), declared);
  assert.deepEqual(declared, ["RelayClient", "RelayError", "SSEParser"]);
});

test("class members match the declarations", () => {
  const err = new mod.RelayError("x");
  const e = declaredMembers("RelayError");
  // `message`, `stack` and `cause` come from Error and are not redeclared.
  assert.deepEqual(publicKeys(err).filter((k) => k !== "stack"), e.fields);
  assert.deepEqual(e.methods, []);

  const c = declaredMembers("RelayClient");
  assert.deepEqual(publicKeys(new mod.RelayClient({ apiKey: "k" })), c.fields);
  assert.deepEqual(protoMethods(mod.RelayClient), c.methods);

  const p = declaredMembers("SSEParser");
  assert.deepEqual(publicKeys(new mod.SSEParser()), p.fields);
  assert.deepEqual(protoMethods(mod.SSEParser), p.methods);
});

const tsc = new URL("../node_modules/typescript/bin/tsc", import.meta.url);
for (const project of ["tsconfig.json", "tsconfig.js.json"]) {
  test(`tsc -p ${project} passes`, () => {
    assert.ok(existsSync(tsc), "typescript is not installed: run npm install");
    const r = spawnSync(process.execPath, [fileURLToPath(tsc), "-p", project], { cwd: root, encoding: "utf8" });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });
}
