// RelayClient against a real local HTTP server (127.0.0.1, ephemeral port) that
// streams both dialects slowly, using Node's built-in fetch.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync } from "node:fs";
import { once } from "node:events";
import { RelayClient, RelayError } from "../relay-client.js";

const fixtureText = (name) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const EXPECTED = JSON.parse(readFileSync(new URL("./fixtures/expected-events.json", import.meta.url), "utf8"));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function withTimeout(p, ms, what) {
  let timer;
  const t = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Frames ("...\n\n") of a recorded stream. */
const frames = (text) => text.split(/(?<=\n\n)/);

// Per-test hooks: the server hands each request to `scenarios[model]`.
const scenarios = {};
/** Every request the server saw: {url, headers, body, socketClosed: Promise<void>}. */
const seen = [];
let server;
let baseUrl;

before(async () => {
  server = http.createServer(async (req, res) => {
    let raw = "";
    for await (const c of req) raw += c;
    const body = JSON.parse(raw);
    const socketClosed = once(req.socket, "close").then(() => {});
    const entry = { url: req.url, headers: req.headers, body, socketClosed };
    seen.push(entry);
    const handler = scenarios[body.model];
    if (!handler) {
      res.writeHead(404).end();
      return;
    }
    try {
      await handler(req, res, entry);
    } catch {
      res.destroy();
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  baseUrl = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

const sseHead = (res) => {
  res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache" });
  res.flushHeaders();
};
/** Writes and resolves once the bytes are handed to the socket. */
const write = (res, data) => new Promise((resolve, reject) => res.write(data, (err) => (err ? reject(err) : resolve())));

/** Streams a recorded fixture slowly, each frame cut in two (mid-character when it can). */
function slowRecording(file, delayMs = 8) {
  return async (req, res) => {
    sseHead(res);
    for (const frame of frames(fixtureText(file))) {
      const bytes = Buffer.from(frame);
      // Cut inside a multi-byte character if the frame has one, else in the middle.
      let cut = bytes.findIndex((b) => b >= 0x80) + 1 || Math.floor(bytes.length / 2);
      await write(res, bytes.subarray(0, cut));
      await sleep(delayMs);
      await write(res, bytes.subarray(cut));
      await sleep(delayMs);
    }
    res.end();
  };
}

const client = (opts = {}) => new RelayClient({ baseUrl, apiKey: "sk-test", ...opts });

// Every test is bounded: a client bug must fail a test, not hang the run.
describe("RelayClient over real HTTP", { timeout: 10_000 }, () => {
  test("both dialects stream slowly and normalize to the recorded events", async () => {
    scenarios["rec-events"] = slowRecording("events.sse");
    scenarios["rec-openai"] = slowRecording("openai.sse");
    for (const [dialect, model, path] of [["events", "rec-events", "/api/chat"], ["openai", "rec-openai", "/api/v1/chat/completions"]]) {
      const events = [];
      for await (const ev of client().stream({ dialect, model, messages: [{ role: "user", content: "東京の天気は？" }] })) events.push(ev);
      assert.deepEqual(events, EXPECTED, dialect);
      const req = seen.at(-1);
      assert.equal(req.url, path);
      assert.equal(req.headers.authorization, "Bearer sk-test");
      assert.equal(req.headers["content-type"], "application/json");
      assert.equal(req.headers.accept, "text/event-stream");
      assert.deepEqual(req.body.messages, [{ role: "user", content: "東京の天気は？" }]);
    }
  });

  test("events arrive incrementally: the first is delivered before the server sends the next", async () => {
    for (const dialect of ["events", "openai"]) {
      let sent = 0;
      let release;
      const gate = new Promise((r) => (release = r));
      scenarios["gated"] = async (req, res) => {
        sseHead(res);
        await write(res, ": keep-alive\n\n");
        await write(res, dialect === "events" ? 'event: text_delta\ndata: {"content":"一"}\n\n' : 'data: {"choices":[{"index":0,"delta":{"content":"一"}}]}\n\n');
        sent = 1;
        await gate; // nothing more until the client has shown it got the first event
        sent = 2;
        await write(res, dialect === "events" ? 'event: text_delta\ndata: {"content":"二"}\n\nevent: done\ndata: {"finish_reason":"stop"}\n\n'
          : 'data: {"choices":[{"index":0,"delta":{"content":"二"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n');
        res.end();
      };
      const got = [];
      const it = client().stream({ dialect, model: "gated", prompt: "p" });
      const first = await withTimeout(it.next(), 3000, "first event while the server holds the rest");
      got.push([first.value, sent]);
      release();
      for await (const ev of it) got.push([ev, sent]);
      assert.deepEqual(got, [
        [{ type: "text_delta", content: "一" }, 1],
        [{ type: "text_delta", content: "二" }, 2],
        [{ type: "done", finish_reason: "stop" }, 2],
      ], dialect);
    }
  });

  // "fetch ignores signal": a fetch that never sees the signal, so only the client's
  // reader.cancel() can close the connection.
  const deaf = (url, init) => fetch(url, { ...init, signal: undefined });
  for (const [when, how] of [["mid-stream", "native"], ["before the first byte of body", "native"],
    ["mid-stream", "fetch ignores signal"], ["before the first byte of body", "fetch ignores signal"]]) {
    test(`abort ${when} closes the server-side connection (${how})`, async () => {
      let ticks = 0;
      scenarios["forever"] = async (req, res) => {
        sseHead(res);
        if (when === "mid-stream") {
          for (let i = 0; i < 500 && !res.destroyed; i++) { // at most ~5 s
            await write(res, `event: text_delta\ndata: {"content":"${ticks++}"}\n\n: keep-alive\n\n`).catch(() => {});
            await sleep(10);
          }
        }
      };
      const ac = new AbortController();
      const events = [];
      const p = (async () => {
        const c = client(how === "native" ? {} : { fetch: deaf });
        for await (const ev of c.stream({ model: "forever", prompt: "p", signal: ac.signal })) {
          events.push(ev);
          if (events.length === 3) ac.abort();
        }
      })();
      if (when !== "mid-stream") {
        while (seen.at(-1)?.body.model !== "forever") await sleep(5);
        await sleep(30);
        ac.abort();
      }
      await assert.rejects(withTimeout(p, 3000, "aborted stream to throw"), (e) => e instanceof RelayError && e.code === "aborted");
      await withTimeout(seen.at(-1).socketClosed, 3000, "server socket 'close' after abort");
      if (when === "mid-stream") assert.deepEqual(events.map((e) => e.content), ["0", "1", "2"]);
      else assert.deepEqual(events, []);
    });
  }

  test("breaking out of the loop also closes the connection", async () => {
    scenarios["forever2"] = async (req, res) => {
      sseHead(res);
      for (let i = 0; i < 500 && !res.destroyed; i++) { // at most ~5 s
        await write(res, `event: text_delta\ndata: {"content":"${i}"}\n\n`).catch(() => {});
        await sleep(10);
      }
    };
    for await (const ev of client().stream({ model: "forever2", prompt: "p" })) {
      assert.equal(ev.content, "0");
      break;
    }
    await withTimeout(seen.at(-1).socketClosed, 3000, "server socket 'close' after break");
  });

  test("HTTP 429 → RelayError with status, code, retryAfter", async () => {
    scenarios["limited"] = async (req, res) => {
      res.writeHead(429, { "Content-Type": "application/json", "Retry-After": "7" });
      res.end(JSON.stringify({ error: { message: "Rate limit exceeded", type: "rate_limit_error", code: "rate_limited" } }));
    };
    for (const dialect of ["events", "openai"]) {
      const err = await client().stream({ dialect, model: "limited", prompt: "p" }).next().then(() => null, (e) => e);
      assert.ok(err instanceof RelayError, dialect);
      assert.deepEqual([err.status, err.code, err.type, err.retryable, err.retryAfter, err.message],
        [429, "rate_limited", "rate_limit_error", true, 7, "Rate limit exceeded"]);
    }
  });

  test("error event mid-stream → RelayError with code and retryable (both dialects)", async () => {
    for (const dialect of ["events", "openai"]) {
      scenarios["fails"] = async (req, res) => {
        sseHead(res);
        await write(res, dialect === "events" ? 'event: text_delta\ndata: {"content":"こんに"}\n\n' : 'data: {"choices":[{"index":0,"delta":{"content":"こんに"}}]}\n\n');
        await sleep(20);
        await write(res, dialect === "events"
          ? 'event: error\ndata: {"code":"upstream_timeout","message":"upstream stalled","retryable":true}\n\n'
          : 'data: {"error":{"message":"upstream stalled","type":"server_error","code":"upstream_timeout","retryable":true}}\n\n');
        res.end();
      };
      const events = [];
      const err = await (async () => {
        for await (const ev of client().stream({ dialect, model: "fails", prompt: "p" })) events.push(ev);
      })().then(() => null, (e) => e);
      assert.deepEqual(events, [{ type: "text_delta", content: "こんに" }], dialect);
      assert.ok(err instanceof RelayError, dialect);
      assert.deepEqual([err.code, err.retryable, err.message, err.status], ["upstream_timeout", true, "upstream stalled", null]);
    }
  });

  test("stream that ends without done → RelayError truncated (both dialects)", async () => {
    for (const dialect of ["events", "openai"]) {
      scenarios["cut"] = async (req, res) => {
        sseHead(res);
        const text = fixtureText(dialect === "events" ? "events.sse" : "openai.sse");
        const fs = frames(text);
        for (const f of fs.slice(0, 5)) {
          await write(res, f);
          await sleep(5);
        }
        res.end(); // clean end of the HTTP response, but no done / [DONE]
      };
      const events = [];
      const err = await (async () => {
        for await (const ev of client().stream({ dialect, model: "cut", prompt: "p" })) events.push(ev);
      })().then(() => null, (e) => e);
      assert.ok(err instanceof RelayError, dialect);
      assert.deepEqual([err.code, err.retryable], ["truncated", true]);
      assert.ok(events.length > 0 && !events.some((e) => e.type === "done"));
    }
  });

  test("connection dropped mid-stream → RelayError network_error", async () => {
    scenarios["drop"] = async (req, res) => {
      sseHead(res);
      await write(res, 'event: text_delta\ndata: {"content":"a"}\n\n');
      await sleep(20);
      res.socket.destroy();
    };
    const events = [];
    const err = await (async () => {
      for await (const ev of client().stream({ model: "drop", prompt: "p" })) events.push(ev);
    })().then(() => null, (e) => e);
    assert.equal(events.length, 1);
    assert.ok(err instanceof RelayError);
    assert.deepEqual([err.code, err.retryable], ["network_error", true]);
  });

  test("chat() over HTTP returns the final text", async () => {
    scenarios["rec-events"] = slowRecording("events.sse", 2);
    const deltas = [];
    const text = await client().chat({ model: "rec-events", prompt: "p" }, { onText: (d) => deltas.push(d) });
    assert.equal(text, "確認しますね 🔍…東京（とうきょう）の天気は晴れ☀️、18℃。café 👨‍👩‍👧 🎉🚀");
    assert.equal(deltas.length, 4);
  });
});
