// RelayClient's resumable streams against a local HTTP server (127.0.0.1, ephemeral port) that
// plays the relay's contract: x-relay-resumable opt-in, x-relay-stream-id, `id: n` on every event,
// GET /api/v1/streams/{id} with Last-Event-ID, DELETE to cancel. The server drops connections on cue.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { once } from "node:events";
import { RelayClient, RelayError } from "../relay-client.js";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PIECES = ["途", "切", "れ", "て", "も", "続", "く", "🚀"];
const STREAM_ID = "s".repeat(32);
/** The stream's events, numbered from 1: the pieces, then done. */
const EVENTS = [
  ...PIECES.map((content) => `event: text_delta\ndata: ${JSON.stringify({ content })}\n\n`),
  'event: done\ndata: {"finish_reason":"stop"}\n\n',
];

/** Per test: how many events each connection sends before the socket is destroyed (undefined: all). */
let plan = [];
/** Every request the server saw: {method, url, headers}. */
let seen = [];
let server;
let baseUrl;

before(async () => {
  server = http.createServer(async (req, res) => {
    for await (const _ of req); // the body, unread
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    if (req.method === "DELETE") { res.writeHead(204).end(); return; }
    const after = req.method === "GET" ? Number(req.headers["last-event-id"] ?? 0) : 0;
    if (after >= EVENTS.length) { res.writeHead(204).end(); return; }
    const cut = plan.shift();
    if (cut === 0) { req.socket.destroy(); return; } // the reconnect itself fails
    const headers = { "Content-Type": "text/event-stream; charset=utf-8" };
    if (req.headers["x-relay-resumable"] === "1" || req.method === "GET") headers["x-relay-stream-id"] = STREAM_ID;
    res.writeHead(200, headers);
    res.flushHeaders();
    const wanted = req.headers["x-relay-resumable"] === "1" || req.method === "GET";
    let sent = 0;
    for (let n = after + 1; n <= EVENTS.length; n++) {
      if (cut !== undefined && sent === cut) { await sleep(5); req.socket.destroy(); return; }
      res.write((wanted ? `id: ${n}\n` : "") + EVENTS[n - 1]);
      sent++;
      await sleep(2);
    }
    res.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  baseUrl = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

const client = () => new RelayClient({ baseUrl, apiKey: "sk-test" });
const fast = { retries: 3, backoffMs: 1, maxBackoffMs: 5 };

async function textOf(iterator) {
  let text = "";
  for await (const ev of iterator) if (ev.type === "text_delta") text += ev.content;
  return text;
}

describe("RelayClient resumable streams", { timeout: 10_000 }, () => {
  test("a dropped connection resumes after the last event id, on its own", async () => {
    plan = [3, 2]; seen = [];
    let id = null;
    const text = await textOf(client().stream({ model: "m", prompt: "p", resumable: fast, onStreamId: (s) => (id = s) }));
    assert.equal(text, PIECES.join(""));
    assert.equal(id, STREAM_ID);
    assert.deepEqual(seen.map((r) => [r.method, r.url, r.headers["last-event-id"]]), [
      ["POST", "/api/chat", undefined],
      ["GET", `/api/v1/streams/${STREAM_ID}`, "3"],
      ["GET", `/api/v1/streams/${STREAM_ID}`, "5"],
    ]);
    assert.equal(seen[0].headers["x-relay-resumable"], "1");
    assert.ok(seen.every((r) => r.headers.authorization === "Bearer sk-test"));
  });

  test("failed reconnects are retried with backoff, a bounded number of times", async () => {
    plan = [2, 0, 0, 0, 0]; seen = [];
    await assert.rejects(textOf(client().stream({ model: "m", prompt: "p", resumable: fast })),
      (err) => err instanceof RelayError && err.code === "network_error");
    assert.equal(seen.filter((r) => r.method === "GET").length, 3);
  });

  test("a reconnect that succeeds resets the count", async () => {
    plan = [1, 0, 0, 1, 0, 0, 1]; seen = [];
    const text = await textOf(client().stream({ model: "m", prompt: "p", resumable: fast }));
    assert.equal(text, PIECES.join(""));
  });

  test("without resumable, a dropped connection is thrown and nothing is retried", async () => {
    plan = [3]; seen = [];
    await assert.rejects(textOf(client().stream({ model: "m", prompt: "p" })), (err) => err.code === "network_error");
    assert.deepEqual(seen.map((r) => r.method), ["POST"]);
    assert.equal(seen[0].headers["x-relay-resumable"], undefined);
  });

  test("aborting a resumable stream cancels its generation", async () => {
    plan = [undefined]; seen = [];
    const stop = new AbortController();
    const it = client().stream({ model: "m", prompt: "p", resumable: true, signal: stop.signal });
    await it.next();
    stop.abort();
    await assert.rejects(it.next(), (err) => err.code === "aborted");
    for (let i = 0; i < 100 && !seen.some((r) => r.method === "DELETE"); i++) await sleep(10);
    const cancel = seen.find((r) => r.method === "DELETE");
    assert.equal(cancel?.url, `/api/v1/streams/${STREAM_ID}`);
    assert.equal(cancel.headers.authorization, "Bearer sk-test");
  });

  test("resume() picks a stream up after a reload, and a finished one yields nothing", async () => {
    plan = [undefined]; seen = [];
    const rest = await textOf(client().resume({ streamId: STREAM_ID, lastEventId: 6 }));
    assert.equal(rest, PIECES.slice(6).join(""));
    assert.equal(seen[0].headers["last-event-id"], "6");
    assert.equal(await textOf(client().resume({ streamId: STREAM_ID, lastEventId: EVENTS.length })), "");
  });

  test("onEventId reports each id once its events were yielded, so text and id can be saved together", async () => {
    plan = [undefined]; seen = [];
    const log = [];
    const events = client().stream({ model: "m", prompt: "p", resumable: true, onEventId: (id) => log.push(`id ${id}`) });
    for await (const ev of events) if (ev.type === "text_delta") log.push(ev.content);
    const expected = PIECES.flatMap((piece, i) => [piece, `id ${i + 1}`]);
    assert.deepEqual(log, expected, "the done event ends the stream: there is nothing to resume after it");
    const resumed = [];
    const rest = client().resume({ streamId: STREAM_ID, lastEventId: 6, onEventId: (id) => resumed.push(id) });
    assert.equal(await textOf(rest), PIECES.slice(6).join(""));
    assert.deepEqual(resumed, ["7", "8"]);
  });

  test("aborting a resumed stream cancels its generation too", async () => {
    plan = [undefined]; seen = [];
    const stop = new AbortController();
    const it = client().resume({ streamId: STREAM_ID, lastEventId: 2, signal: stop.signal });
    await it.next();
    stop.abort();
    await assert.rejects(it.next(), (err) => err.code === "aborted");
    for (let i = 0; i < 100 && !seen.some((r) => r.method === "DELETE"); i++) await sleep(10);
    assert.equal(seen.find((r) => r.method === "DELETE")?.url, `/api/v1/streams/${STREAM_ID}`);
  });
});
