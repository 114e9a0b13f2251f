// Fuzzer: recorded streams cut at random byte positions must parse exactly like
// the unsplit stream, at the SSE level and after normalization by RelayClient.
// Seeded and reproducible: FUZZ_SEED=<n> FUZZ_ITERATIONS=<n> npm test
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { SSEParser, RelayClient } from "../relay-client.js";

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed1e55) >>> 0;
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 500);

const fixture = (name) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const EXPECTED = JSON.parse(readFileSync(new URL("./fixtures/expected-events.json", import.meta.url), "utf8"));
const enc = new TextEncoder();
const dec = new TextDecoder();

/** mulberry32: small seeded PRNG, returns floats in [0, 1). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random sorted, distinct cut positions in (0, len): sometimes few, sometimes very many. */
function randomCuts(rng, len) {
  const mode = rng();
  const max = mode < 0.4 ? 4 : mode < 0.8 ? 64 : len;
  const n = 1 + Math.floor(rng() * Math.min(max, len - 1));
  const set = new Set();
  while (set.size < n) set.add(1 + Math.floor(rng() * (len - 1)));
  return [...set].sort((x, y) => x - y);
}

function pieces(bytes, cuts) {
  const out = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

function parseAll(chunks) {
  const p = new SSEParser();
  const events = [];
  for (const c of chunks) events.push(...p.feed(c));
  p.end();
  return { events, lastEventId: p.lastEventId, retry: p.retry };
}

/** Same text with every LF turned into `eol` (fixture JSON has no raw newlines). */
const withEol = (bytes, eol) => enc.encode(dec.decode(bytes).replaceAll("\n", eol));
const withBom = (bytes) => new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]);

// A hand-written stream exercising every field kind, for the parser-level fuzz.
const TORTURE = enc.encode(
  "\uFEFF: stream start\r\n\r\nretry: 2500\r\nid: 1\r\nevent: multi\r\ndata: 行一\r\ndata:行二 🎌\r\ndata\r\n\r\n" +
    ": keep-alive\n\nid: 2\u0000bad\rdata:  two spaces\r\rfoo: bar\nevent: 空\ndata: x:y:z\n\n" +
    "event: lonely\n\nid\ndata: ✔\r\n\r\ndata: tail without blank line",
);

function checkReference(name, ref) {
  const types = ref.events.map((e) => e.type);
  if (name.startsWith("events")) {
    assert.equal(ref.events.length, EXPECTED.length);
    assert.deepEqual(types, EXPECTED.map((e) => e.type));
    assert.deepEqual(ref.events.map((e) => JSON.parse(e.data).content).filter(Boolean).join(""),
      EXPECTED.map((e) => e.content).filter(Boolean).join(""));
  } else if (name.startsWith("openai")) {
    assert.equal(ref.events.length, 14); // role chunk + 10 deltas + finish + usage + [DONE]
    assert.ok(types.every((t) => t === "message"));
    assert.equal(ref.events.at(-1).data, "[DONE]");
  } else {
    assert.deepEqual(ref, {
      events: [
        { type: "multi", data: "行一\n行二 🎌\n", lastEventId: "1" },
        { type: "message", data: " two spaces", lastEventId: "1" },
        { type: "空", data: "x:y:z", lastEventId: "1" },
        { type: "message", data: "✔", lastEventId: "" },
      ],
      lastEventId: "",
      retry: 2500,
    });
  }
}

const variants = [];
for (const [name, bytes] of [["events", fixture("events.sse")], ["openai", fixture("openai.sse")]]) {
  variants.push([`${name} LF`, bytes], [`${name} CRLF`, withEol(bytes, "\r\n")],
    [`${name} CR`, withEol(bytes, "\r")], [`${name} BOM+CRLF`, withBom(withEol(bytes, "\r\n"))]);
}
variants.push(["torture", TORTURE]);

describe(`SSEParser fuzz (seed ${SEED}, ${ITERATIONS} iterations per stream)`, { timeout: 60_000 }, () => {
  for (const [name, bytes] of variants) {
    test(`${name}: random byte cuts parse like the whole stream`, () => {
      const ref = parseAll([bytes]);
      checkReference(name, ref);
      // Line-ending and BOM variants must mean exactly the same events as the LF original.
      if (!name.startsWith("torture")) {
        const base = parseAll([fixture(`${name.split(" ")[0]}.sse`)]);
        assert.deepEqual(ref, base, "variant differs from the LF recording");
      }
      const rng = prng(SEED ^ bytes.length);
      for (let i = 0; i < ITERATIONS; i++) {
        const cuts = randomCuts(rng, bytes.length);
        const got = parseAll(pieces(bytes, cuts));
        assert.deepEqual(got, ref, `seed ${SEED} iteration ${i} cuts [${cuts}]`);
      }
      // Extremes: every single byte on its own.
      assert.deepEqual(parseAll([...bytes].map((b) => Uint8Array.of(b))), ref, "byte-at-a-time");
    });
  }
});

/** A fetch that answers with `chunks` as the response body of a 200 SSE response. */
function fetchOf(chunks) {
  return async () =>
    new Response(
      new ReadableStream({
        pull(controller) {
          if (chunks.length) controller.enqueue(chunks.shift());
          else controller.close();
        },
      }),
      { headers: { "content-type": "text/event-stream; charset=utf-8" } },
    );
}

async function collect(client, dialect) {
  const out = [];
  for await (const ev of client.stream({ dialect, model: "m", prompt: "p" })) out.push(ev);
  return out;
}

describe(`RelayClient fuzz (seed ${SEED})`, { timeout: 60_000 }, () => {
  for (const [dialect, file] of [["events", "events.sse"], ["openai", "openai.sse"]]) {
    for (const eol of ["\n", "\r\n", "\r"]) {
      const label = JSON.stringify(eol);
      test(`${dialect} ${label}: normalized events are identical for every random split`, async () => {
        const bytes = withEol(fixture(file), eol);
        assert.deepEqual(await collect(new RelayClient({ fetch: fetchOf([bytes]) }), dialect), EXPECTED);
        const rng = prng(SEED ^ 0xc1 ^ bytes.length);
        const n = Math.max(1, Math.floor(ITERATIONS / 5));
        for (let i = 0; i < n; i++) {
          const cuts = randomCuts(rng, bytes.length);
          const got = await collect(new RelayClient({ fetch: fetchOf(pieces(bytes, cuts)) }), dialect);
          assert.deepEqual(got, EXPECTED, `seed ${SEED} iteration ${i} cuts [${cuts}]`);
        }
      });
    }
  }

  test("a random prefix of a recording (cut before the end) always throws 'truncated'", async () => {
    const rng = prng(SEED ^ 0x7e);
    for (const [dialect, file] of [["events", "events.sse"], ["openai", "openai.sse"]]) {
      const bytes = fixture(file);
      // The terminal frame starts at the last "event: done" / "data: [DONE]".
      const text = dec.decode(bytes);
      const lastFrame = enc.encode(text.slice(0, text.lastIndexOf(dialect === "events" ? "event: done" : "data: [DONE]"))).length;
      for (let i = 0; i < 50; i++) {
        // Any length short of the whole: `done` needs the final blank line's LF.
        const end = Math.floor(rng() * bytes.length);
        const prefix = bytes.subarray(0, end);
        const cuts = end > 2 ? randomCuts(rng, end) : [];
        const seen = [];
        await assert.rejects(
          (async () => {
            for await (const ev of new RelayClient({ fetch: fetchOf(pieces(prefix, cuts)) }).stream({ dialect, model: "m", prompt: "p" })) seen.push(ev);
          })(),
          (err) => err.name === "RelayError" && err.code === "truncated" && err.retryable === true,
          `${dialect} prefix of ${end} bytes (frame boundary ${lastFrame})`,
        );
        assert.ok(!seen.some((e) => e.type === "done"), "no done event in a truncated stream");
        assert.deepEqual(seen, EXPECTED.slice(0, seen.length), "events before the cut are the recorded ones");
      }
    }
  });
});
