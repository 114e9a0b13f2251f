// RelayClient against an in-memory fetch: request shape, normalization, errors, cancellation, chat().
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { RelayClient, RelayError } from "../relay-client.js";

const enc = new TextEncoder();
const fixture = (name) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const EXPECTED = JSON.parse(readFileSync(new URL("./fixtures/expected-events.json", import.meta.url), "utf8"));

/**
 * A fake fetch. `reply(url, init)` returns {status, headers, chunks, body, hold, error};
 * chunks are streamed, then the body closes unless `hold` (stays open) or `error` (errors).
 * Records calls and whether the body was cancelled.
 */
function fakeFetch(reply) {
  const log = { calls: [], cancelled: false, cancelReason: undefined };
  log.fetch = async (url, init) => {
    log.calls.push({ url, init, body: init.body ? JSON.parse(init.body) : undefined });
    if (init.signal?.aborted) throw init.signal.reason;
    const r = reply(url, init) ?? {};
    const chunks = [...(r.chunks ?? [])].map((c) => (typeof c === "string" ? enc.encode(c) : c));
    const body = r.body !== undefined ? r.body : new ReadableStream({
      pull(controller) {
        if (chunks.length) controller.enqueue(chunks.shift());
        else if (r.error) controller.error(r.error);
        else if (!r.hold) controller.close();
        else return new Promise(() => {}); // stay open forever
      },
      cancel(reason) {
        log.cancelled = true;
        log.cancelReason = reason;
      },
    });
    return new Response(body, {
      status: r.status ?? 200,
      headers: r.headers ?? { "content-type": "text/event-stream" },
    });
  };
  return log;
}

async function collect(iterable) {
  const out = [];
  for await (const ev of iterable) out.push(ev);
  return out;
}

/** Runs the stream to its end and returns {events, error}. */
async function run(client, options) {
  const events = [];
  try {
    for await (const ev of client.stream(options)) events.push(ev);
  } catch (error) {
    return { events, error };
  }
  return { events, error: null };
}

const sse = (type, obj) => `event: ${type}\ndata: ${JSON.stringify(obj)}\n\n`;
const chunk = (delta, finish = null, extra = {}) =>
  `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
const DONE_EV = sse("done", { finish_reason: "stop" });

describe("requests", { timeout: 5_000 }, () => {
  test("events dialect: URL, method, headers, body", async () => {
    const f = fakeFetch(() => ({ chunks: [DONE_EV] }));
    const client = new RelayClient({ baseUrl: "https://relay.example/", apiKey: "sk-1", headers: { "X-App": "a" }, fetch: f.fetch });
    await collect(client.stream({ model: "gpt-x", messages: [{ role: "user", content: "やあ" }], maxTokens: 64, temperature: 0, headers: { "X-Req": "r" } }));
    const [c] = f.calls;
    assert.equal(c.url, "https://relay.example/api/chat");
    assert.equal(c.init.method, "POST");
    assert.deepEqual(c.init.headers, {
      "Content-Type": "application/json",
      Accept: "text/event-stream",
      "X-App": "a",
      "X-Req": "r",
      Authorization: "Bearer sk-1",
    });
    assert.deepEqual(c.body, { model: "gpt-x", messages: [{ role: "user", content: "やあ" }], max_tokens: 64, temperature: 0 });
  });

  test("events dialect: prompt instead of messages; optional fields omitted", async () => {
    const f = fakeFetch(() => ({ chunks: [DONE_EV] }));
    await collect(new RelayClient({ fetch: f.fetch }).stream({ dialect: "events", model: "m", prompt: "hi" }));
    assert.equal(f.calls[0].url, "/api/chat");
    assert.deepEqual(f.calls[0].body, { model: "m", prompt: "hi" });
    assert.equal(f.calls[0].init.headers.Authorization, undefined, "no key → no Authorization header");
  });

  test("openai dialect: URL and stream body; prompt becomes a user message; extraBody merged", async () => {
    const f = fakeFetch(() => ({ chunks: ["data: [DONE]\n\n"] }));
    const client = new RelayClient({ baseUrl: "http://h:7071", fetch: f.fetch });
    await collect(client.stream({ dialect: "openai", model: "m", prompt: "hi", maxTokens: 5, extraBody: { user: "u1" } }));
    assert.equal(f.calls[0].url, "http://h:7071/api/v1/chat/completions");
    assert.deepEqual(f.calls[0].body, {
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
      user: "u1",
    });
  });

  test("getToken is awaited per request and wins over apiKey", async () => {
    const f = fakeFetch(() => ({ chunks: [DONE_EV] }));
    let n = 0;
    const client = new RelayClient({ apiKey: "static", getToken: async () => `tok-${++n}`, fetch: f.fetch });
    await collect(client.stream({ model: "m", prompt: "a" }));
    await collect(client.stream({ model: "m", prompt: "b" }));
    assert.deepEqual(f.calls.map((c) => c.init.headers.Authorization), ["Bearer tok-1", "Bearer tok-2"]);
  });

  test("a supplied fetch is called as a plain function (window.fetch needs that)", async () => {
    const f = fakeFetch(() => ({ chunks: [DONE_EV] }));
    const thisValues = [];
    const client = new RelayClient({
      fetch: function (...args) {
        thisValues.push(this);
        return f.fetch(...args);
      },
    });
    await collect(client.stream({ model: "m", prompt: "p" }));
    assert.deepEqual(thisValues, [undefined]);
  });

  test("default fetch is globalThis.fetch, called unbound-safe", async () => {
    const orig = globalThis.fetch;
    const f = fakeFetch(() => ({ chunks: [DONE_EV] }));
    globalThis.fetch = function (...args) {
      assert.ok(this === undefined || this === globalThis, "called as a plain function");
      return f.fetch(...args);
    };
    try {
      assert.deepEqual(await collect(new RelayClient().stream({ model: "m", prompt: "p" })), [{ type: "done", finish_reason: "stop" }]);
    } finally {
      globalThis.fetch = orig;
    }
  });

  test("unknown dialect is a TypeError", async () => {
    await assert.rejects(collect(new RelayClient({ fetch: fakeFetch(() => ({})).fetch }).stream({ dialect: "grpc", model: "m" })), TypeError);
  });
});

describe("normalization", { timeout: 5_000 }, () => {
  test("both recorded fixtures normalize to the same events", async () => {
    for (const [dialect, file] of [["events", "events.sse"], ["openai", "openai.sse"]]) {
      const f = fakeFetch(() => ({ chunks: [fixture(file)] }));
      assert.deepEqual(await collect(new RelayClient({ fetch: f.fetch }).stream({ dialect, model: "m", prompt: "p" })), EXPECTED, dialect);
    }
  });

  test("openai: role-only and empty-content chunks yield nothing; finish_reason goes on done", async () => {
    const f = fakeFetch(() => ({
      chunks: [
        chunk({ role: "assistant", content: "" }),
        chunk({ content: "A" }),
        chunk({ content: null }),
        chunk({}, "length"),
        "data: [DONE]\n\n",
      ],
    }));
    const events = await collect(new RelayClient({ fetch: f.fetch }).stream({ dialect: "openai", model: "m", prompt: "p" }));
    assert.deepEqual(events, [{ type: "text_delta", content: "A" }, { type: "done", finish_reason: "length" }]);
  });

  test("openai: reasoning, text and tool calls in one chunk; usage on a choices:[] chunk", async () => {
    const delta = {
      reasoning_content: "r",
      content: "t",
      tool_calls: [
        { index: 0, id: "c0", type: "function", function: { name: "f", arguments: "{" } },
        { index: 1, function: { arguments: "}" } },
      ],
    };
    const f = fakeFetch(() => ({
      chunks: [chunk(delta), `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } })}\n\ndata: [DONE]\n\n`],
    }));
    const events = await collect(new RelayClient({ fetch: f.fetch }).stream({ dialect: "openai", model: "m", prompt: "p" }));
    assert.deepEqual(events, [
      { type: "thinking", content: "r" },
      { type: "text_delta", content: "t" },
      { type: "tool_call", index: 0, id: "c0", name: "f", arguments_delta: "{" },
      { type: "tool_call", index: 1, id: null, name: null, arguments_delta: "}" },
      { type: "usage", prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, cached_tokens: 0, reasoning_tokens: 0 },
      { type: "done", finish_reason: null },
    ]);
  });

  test("cached and reasoning tokens: nested in openai usage, flat in the events usage, the same normalized", async () => {
    const openaiUsage = {
      prompt_tokens: 9, completion_tokens: 5, total_tokens: 14,
      prompt_tokens_details: { cached_tokens: 6 }, completion_tokens_details: { reasoning_tokens: 3 },
    };
    const openai = fakeFetch(() => ({ chunks: [`data: ${JSON.stringify({ choices: [], usage: openaiUsage })}\n\ndata: [DONE]\n\n`] }));
    const flat = { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14, cached_tokens: 6, reasoning_tokens: 3 };
    const events = fakeFetch(() => ({ chunks: [sse("usage", flat), DONE_EV] }));
    const expected = { type: "usage", ...flat };
    const fromOpenai = await collect(new RelayClient({ fetch: openai.fetch }).stream({ dialect: "openai", model: "m", prompt: "p" }));
    const fromEvents = await collect(new RelayClient({ fetch: events.fetch }).stream({ model: "m", prompt: "p" }));
    assert.deepEqual(fromOpenai[0], expected);
    assert.deepEqual(fromEvents[0], expected);
  });

  test("events: defaults filled (tool_call id/name null, arguments_delta '')", async () => {
    const f = fakeFetch(() => ({ chunks: [sse("tool_call", { index: 2 }), sse("usage", { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }), DONE_EV] }));
    const events = await collect(new RelayClient({ fetch: f.fetch }).stream({ model: "m", prompt: "p" }));
    assert.deepEqual(events.slice(0, 2), [
      { type: "tool_call", index: 2, id: null, name: null, arguments_delta: "" },
      { type: "usage", prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, cached_tokens: 0, reasoning_tokens: 0 },
    ]);
  });

  test("events: unknown event types, unnamed events and comments are ignored", async () => {
    const f = fakeFetch(() => ({ chunks: [": keep-alive\n\n", sse("future_thing", { x: 1 }), 'data: {"content":"no"}\n\n', sse("text_delta", { content: "yes" }), DONE_EV] }));
    const events = await collect(new RelayClient({ fetch: f.fetch }).stream({ model: "m", prompt: "p" }));
    assert.deepEqual(events, [{ type: "text_delta", content: "yes" }, { type: "done", finish_reason: "stop" }]);
  });

  test("iteration ends at done even if the body stays open, and the body is cancelled", async () => {
    const f = fakeFetch(() => ({ chunks: [sse("text_delta", { content: "a" }) + DONE_EV + sse("text_delta", { content: "after" })], hold: true }));
    const events = await collect(new RelayClient({ fetch: f.fetch }).stream({ model: "m", prompt: "p" }));
    assert.deepEqual(events.map((e) => e.type), ["text_delta", "done"]);
    assert.equal(f.cancelled, true);
  });

  test("openai: like the SDK, named events carry chunks and `event: error` is fatal", async () => {
    const f = fakeFetch(() => ({
      chunks: ['event: delta\ndata: {"choices":[{"index":0,"delta":{"content":"A"}}]}\n\n', 'event: error\ndata: {"message":"bad","code":"e1"}\n\n'],
    }));
    const { events, error } = await run(new RelayClient({ fetch: f.fetch }), { dialect: "openai", model: "m", prompt: "p" });
    assert.deepEqual(events, [{ type: "text_delta", content: "A" }]);
    assert.deepEqual([error?.code, error?.message], ["e1", "bad"]);
  });

  test("openai: iteration ends at [DONE] even if the body stays open", async () => {
    const f = fakeFetch(() => ({ chunks: [chunk({ content: "a" }, "stop") + "data: [DONE]\n\n" + chunk({ content: "after" })], hold: true }));
    const events = await collect(new RelayClient({ fetch: f.fetch }).stream({ dialect: "openai", model: "m", prompt: "p" }));
    assert.deepEqual(events, [{ type: "text_delta", content: "a" }, { type: "done", finish_reason: "stop" }]);
  });
});

describe("errors", { timeout: 5_000 }, () => {
  test("RelayError is an Error with defaults", () => {
    const e = new RelayError("x");
    assert.ok(e instanceof Error);
    assert.equal(e.name, "RelayError");
    assert.deepEqual([e.message, e.status, e.code, e.type, e.retryable, e.retryAfter], ["x", null, "error", null, false, null]);
    assert.equal(new RelayError("y", { cause: 1 }).cause, 1);
  });

  test("HTTP 429 with Retry-After and an OpenAI-style error body", async () => {
    const f = fakeFetch(() => ({
      status: 429,
      headers: { "content-type": "application/json", "retry-after": "7" },
      body: JSON.stringify({ error: { message: "Too many requests", type: "rate_limit_error", code: "rate_limited" } }),
    }));
    const { events, error } = await run(new RelayClient({ fetch: f.fetch }), { model: "m", prompt: "p" });
    assert.deepEqual(events, []);
    assert.ok(error instanceof RelayError);
    assert.deepEqual(
      [error.message, error.status, error.code, error.type, error.retryable, error.retryAfter],
      ["Too many requests", 429, "rate_limited", "rate_limit_error", true, 7],
    );
  });

  test("HTTP 401: not retryable; code falls back to type", async () => {
    const f = fakeFetch(() => ({ status: 401, headers: { "content-type": "application/json" }, body: '{"error":{"message":"bad key","type":"invalid_api_key","code":null}}' }));
    const { error } = await run(new RelayClient({ fetch: f.fetch }), { model: "m", prompt: "p" });
    assert.deepEqual([error.status, error.code, error.retryable, error.retryAfter], [401, "invalid_api_key", false, null]);
  });

  test("HTTP 502 with a non-JSON body: code http_502, retryable, message from text", async () => {
    const f = fakeFetch(() => ({ status: 502, headers: { "content-type": "text/html" }, body: "<h1>Bad Gateway</h1>" }));
    const { error } = await run(new RelayClient({ fetch: f.fetch }), { model: "m", prompt: "p" });
    assert.deepEqual([error.status, error.code, error.retryable, error.message], [502, "http_502", true, "<h1>Bad Gateway</h1>"]);
  });

  test("HTTP error body's retryable wins over the status rule; HTTP-date Retry-After", async () => {
    const when = new Date(Date.now() + 30_000).toUTCString();
    const f = fakeFetch(() => ({ status: 503, headers: { "retry-after": when }, body: '{"error":{"message":"m","code":"overloaded","retryable":false}}' }));
    const { error } = await run(new RelayClient({ fetch: f.fetch }), { model: "m", prompt: "p" });
    assert.equal(error.retryable, false);
    assert.equal(error.code, "overloaded");
    assert.ok(error.retryAfter >= 28 && error.retryAfter <= 31, String(error.retryAfter));
  });

  test("200 with a non-SSE content type is a protocol_error", async () => {
    const f = fakeFetch(() => ({ headers: { "content-type": "text/html" }, chunks: ["<html>"] }));
    const { error } = await run(new RelayClient({ fetch: f.fetch }), { model: "m", prompt: "p" });
    assert.equal(error.code, "protocol_error");
  });

  test("events: error event → RelayError after the earlier events", async () => {
    const f = fakeFetch(() => ({
      chunks: [sse("text_delta", { content: "部分" }), sse("error", { code: "upstream_rate_limited", message: "slow down", retryable: true, retry_after: 2.5 })],
      hold: true,
    }));
    const { events, error } = await run(new RelayClient({ fetch: f.fetch }), { model: "m", prompt: "p" });
    assert.deepEqual(events, [{ type: "text_delta", content: "部分" }]);
    assert.ok(error instanceof RelayError);
    assert.deepEqual([error.message, error.code, error.retryable, error.retryAfter, error.status], ["slow down", "upstream_rate_limited", true, 2.5, null]);
    assert.equal(f.cancelled, true, "the body is cancelled after an error event");
  });

  test("events: error event without retryable is not retryable", async () => {
    const f = fakeFetch(() => ({ chunks: [sse("error", { code: "content_filter", message: "blocked" })] }));
    const { error } = await run(new RelayClient({ fetch: f.fetch }), { model: "m", prompt: "p" });
    assert.deepEqual([error.code, error.retryable], ["content_filter", false]);
  });

  test("openai: error frame → RelayError (code, type, retryable)", async () => {
    const f = fakeFetch(() => ({
      chunks: [chunk({ content: "x" }), 'data: {"error":{"message":"upstream failed","type":"server_error","code":"upstream_error","retryable":true}}\n\n'],
    }));
    const { events, error } = await run(new RelayClient({ fetch: f.fetch }), { dialect: "openai", model: "m", prompt: "p" });
    assert.deepEqual(events, [{ type: "text_delta", content: "x" }]);
    assert.deepEqual([error.message, error.code, error.type, error.retryable], ["upstream failed", "upstream_error", "server_error", true]);
  });

  test("stream ending without done → truncated (both dialects)", async () => {
    for (const [dialect, chunks] of [["events", [sse("text_delta", { content: "a" })]], ["openai", [chunk({ content: "a" }, "stop")]], ["events", []]]) {
      const f = fakeFetch(() => ({ chunks }));
      const { error } = await run(new RelayClient({ fetch: f.fetch }), { dialect, model: "m", prompt: "p" });
      assert.ok(error instanceof RelayError, dialect);
      assert.deepEqual([error.code, error.retryable], ["truncated", true]);
    }
  });

  test("a done frame without its blank line at EOF is still truncated", async () => {
    const f = fakeFetch(() => ({ chunks: ['event: done\ndata: {"finish_reason":"stop"}\n'] }));
    const { error } = await run(new RelayClient({ fetch: f.fetch }), { model: "m", prompt: "p" });
    assert.equal(error?.code, "truncated");
  });

  test("malformed JSON → protocol_error", async () => {
    for (const [dialect, c] of [["events", "event: text_delta\ndata: {oops\n\n"], ["openai", "data: {oops\n\n"], ["events", "event: usage\ndata: 5\n\n"]]) {
      const f = fakeFetch(() => ({ chunks: [c] }));
      const { error } = await run(new RelayClient({ fetch: f.fetch }), { dialect, model: "m", prompt: "p" });
      assert.equal(error?.code, "protocol_error", c);
    }
  });

  test("fetch rejecting → network_error (retryable)", async () => {
    const client = new RelayClient({ fetch: async () => { throw new TypeError("fetch failed"); } });
    const { error } = await run(client, { model: "m", prompt: "p" });
    assert.deepEqual([error.code, error.retryable, error.cause?.message], ["network_error", true, "fetch failed"]);
  });

  test("body erroring mid-stream → network_error", async () => {
    const f = fakeFetch(() => ({ chunks: [sse("text_delta", { content: "a" })], error: new Error("socket hang up") }));
    const { events, error } = await run(new RelayClient({ fetch: f.fetch }), { model: "m", prompt: "p" });
    assert.equal(events.length, 1);
    assert.deepEqual([error.code, error.retryable], ["network_error", true]);
  });
});

describe("cancellation", { timeout: 5_000 }, () => {
  test("already-aborted signal: no request, RelayError aborted", async () => {
    const f = fakeFetch(() => ({ chunks: [DONE_EV] }));
    const ac = new AbortController();
    ac.abort();
    let tokens = 0;
    const client = new RelayClient({ fetch: f.fetch, getToken: () => `t${++tokens}` });
    const { error } = await run(client, { model: "m", prompt: "p", signal: ac.signal });
    assert.equal(error?.code, "aborted");
    assert.equal(f.calls.length, 0);
    assert.equal(tokens, 0, "no token fetched for an aborted request");
  });

  test("abort while a read is pending cancels the body reader", async () => {
    const f = fakeFetch(() => ({ chunks: [sse("text_delta", { content: "a" })], hold: true }));
    const ac = new AbortController();
    const seen = [];
    const p = run(new RelayClient({ fetch: f.fetch }), { model: "m", prompt: "p", signal: ac.signal });
    // Abort once the first event is in and the client is waiting on the held-open body.
    await new Promise((r) => setTimeout(r, 20));
    ac.abort(new Error("user pressed stop"));
    const { events, error } = await p;
    seen.push(...events);
    assert.deepEqual(seen, [{ type: "text_delta", content: "a" }]);
    assert.equal(error?.code, "aborted");
    assert.equal(error.cause?.message, "user pressed stop");
    assert.equal(f.cancelled, true, "reader.cancel() reached the body source");
    assert.equal(f.calls[0].init.signal, ac.signal, "signal passed to fetch");
  });

  test("abort between events (consumer slow) stops at the next step", async () => {
    const f = fakeFetch(() => ({ chunks: [sse("text_delta", { content: "a" }) + sse("text_delta", { content: "b" }) + DONE_EV], hold: true }));
    const ac = new AbortController();
    const events = [];
    const it = new RelayClient({ fetch: f.fetch }).stream({ model: "m", prompt: "p", signal: ac.signal });
    await assert.rejects(async () => {
      for await (const ev of it) {
        events.push(ev);
        ac.abort();
      }
    }, (e) => e.code === "aborted");
    assert.deepEqual(events, [{ type: "text_delta", content: "a" }]);
    assert.equal(f.cancelled, true);
  });

  test("abort while fetch is pending, with a fetch that ignores the signal", async () => {
    // The body sends nothing: only noticing the abort right after fetch returns can end this.
    const f = fakeFetch(() => ({ chunks: [], hold: true }));
    const ac = new AbortController();
    const slowDeafFetch = async (url, init) => {
      ac.abort();
      await new Promise((r) => setTimeout(r, 10));
      return f.fetch(url, { ...init, signal: undefined });
    };
    let timer;
    const { events, error } = await Promise.race([
      run(new RelayClient({ fetch: slowDeafFetch }), { model: "m", prompt: "p", signal: ac.signal }),
      new Promise((r) => (timer = setTimeout(r, 1000, { events: [], error: new Error("still waiting 1 s after abort") }))),
    ]);
    clearTimeout(timer);
    assert.deepEqual(events, []);
    assert.equal(error?.code, "aborted");
    assert.equal(f.cancelled, true);
  });

  test("breaking out of the loop cancels the body", async () => {
    const f = fakeFetch(() => ({ chunks: [sse("text_delta", { content: "a" })], hold: true }));
    for await (const ev of new RelayClient({ fetch: f.fetch }).stream({ model: "m", prompt: "p" })) {
      assert.equal(ev.type, "text_delta");
      break;
    }
    assert.equal(f.cancelled, true);
  });
});

describe("chat()", { timeout: 5_000 }, () => {
  test("callbacks and the final text", async () => {
    const f = fakeFetch(() => ({ chunks: [fixture("openai.sse")] }));
    const texts = [];
    const events = [];
    let done;
    const text = await new RelayClient({ fetch: f.fetch }).chat(
      { dialect: "openai", model: "m", prompt: "p" },
      { onText: (d, all) => texts.push([d, all]), onEvent: (e) => events.push(e), onDone: (r) => (done = r) },
    );
    const full = "確認しますね 🔍…東京（とうきょう）の天気は晴れ☀️、18℃。café 👨‍👩‍👧 🎉🚀";
    assert.equal(text, full);
    assert.deepEqual(events, EXPECTED);
    assert.equal(texts.length, 4);
    assert.equal(texts.at(-1)[1], full);
    assert.equal(texts.map((t) => t[0]).join(""), full);
    assert.deepEqual(done, {
      text: full,
      reasoning: "ユーザーは東京の天気を知りたいようだ。ツールを呼ぶ。",
      finish_reason: "tool_calls",
      usage: { type: "usage", prompt_tokens: 42, completion_tokens: 37, total_tokens: 79, cached_tokens: 0, reasoning_tokens: 12 },
      tool_calls: [
        { id: "call_7f3aQ", name: "get_weather", arguments: '{"city":"東京","unit":"℃"}' },
        { id: "call_8b1cZ", name: "get_time", arguments: '{"tz":"Asia/Tokyo"}' },
      ],
    });
  });

  test("without onError the promise rejects with the RelayError", async () => {
    const f = fakeFetch(() => ({ chunks: [sse("text_delta", { content: "a" })] }));
    let doneCalled = false;
    await assert.rejects(new RelayClient({ fetch: f.fetch }).chat({ model: "m", prompt: "p" }, { onDone: () => (doneCalled = true) }), (e) => e instanceof RelayError && e.code === "truncated");
    assert.equal(doneCalled, false);
  });

  test("with onError: onError gets the error, the promise resolves with the partial text", async () => {
    const f = fakeFetch(() => ({ chunks: [sse("text_delta", { content: "途中" }), sse("error", { code: "boom", message: "x", retryable: false })] }));
    let got;
    let doneCalled = false;
    const text = await new RelayClient({ fetch: f.fetch }).chat({ model: "m", prompt: "p" }, { onError: (e) => (got = e), onDone: () => (doneCalled = true) });
    assert.equal(text, "途中");
    assert.equal(got?.code, "boom");
    assert.equal(doneCalled, false);
  });
});
