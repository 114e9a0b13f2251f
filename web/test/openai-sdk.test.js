// Cross-check: the official `openai` SDK and RelayClient must read the recorded
// OpenAI-dialect stream the same way (and both must reject the same error frame).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import OpenAI from "openai";
import { RelayClient } from "../relay-client.js";

const recording = readFileSync(new URL("./fixtures/openai.sse", import.meta.url));
const EXPECTED = JSON.parse(readFileSync(new URL("./fixtures/expected-events.json", import.meta.url), "utf8"));

/** A fetch serving `body` as an SSE response in small pieces, recording each request. */
function serve(body, requests) {
  return async (url, init) => {
    requests.push({ url: String(url), body: JSON.parse(init.body) });
    const bytes = new Uint8Array(body);
    let i = 0;
    return new Response(
      new ReadableStream({
        pull(c) {
          if (i >= bytes.length) return c.close();
          c.enqueue(bytes.slice(i, i + 37)); // 37: cuts land inside multi-byte characters
          i += 37;
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  };
}

/** Folds either side's output into one comparable summary. */
function fold() {
  return { text: "", reasoning: "", tools: [], finish: null, usage: null };
}

test("openai SDK and RelayClient agree on the recorded stream", { timeout: 10_000 }, async () => {
  const requests = [];
  const sdk = new OpenAI({ apiKey: "sk-test", baseURL: "http://relay.test/api/v1", fetch: serve(recording, requests), maxRetries: 0 });
  const fromSdk = fold();
  const stream = await sdk.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "東京の天気は？" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (c?.delta.content) fromSdk.text += c.delta.content;
    // reasoning_content is a relay/vendor extension the SDK passes through untyped.
    if (c?.delta.reasoning_content) fromSdk.reasoning += c.delta.reasoning_content;
    for (const t of c?.delta.tool_calls ?? []) {
      const slot = (fromSdk.tools[t.index] ??= { id: null, name: null, arguments: "" });
      slot.id ??= t.id ?? null;
      slot.name ??= t.function?.name ?? null;
      slot.arguments += t.function?.arguments ?? "";
    }
    if (c?.finish_reason) fromSdk.finish = c.finish_reason;
    if (chunk.usage) fromSdk.usage = { prompt_tokens: chunk.usage.prompt_tokens, completion_tokens: chunk.usage.completion_tokens, total_tokens: chunk.usage.total_tokens };
  }

  const ours = fold();
  const events = [];
  const client = new RelayClient({ baseUrl: "http://relay.test", apiKey: "sk-test", fetch: serve(recording, requests) });
  for await (const ev of client.stream({ dialect: "openai", model: "gpt-4o-mini", messages: [{ role: "user", content: "東京の天気は？" }] })) {
    events.push(ev);
    if (ev.type === "text_delta") ours.text += ev.content;
    else if (ev.type === "thinking") ours.reasoning += ev.content;
    else if (ev.type === "tool_call") {
      const slot = (ours.tools[ev.index] ??= { id: null, name: null, arguments: "" });
      slot.id ??= ev.id;
      slot.name ??= ev.name;
      slot.arguments += ev.arguments_delta;
    } else if (ev.type === "usage") ours.usage = { prompt_tokens: ev.prompt_tokens, completion_tokens: ev.completion_tokens, total_tokens: ev.total_tokens };
    else if (ev.type === "done") ours.finish = ev.finish_reason;
  }

  assert.deepEqual(events, EXPECTED);
  assert.deepEqual(ours, fromSdk);
  assert.equal(fromSdk.text, "確認しますね 🔍…東京（とうきょう）の天気は晴れ☀️、18℃。café 👨‍👩‍👧 🎉🚀");
  assert.equal(fromSdk.tools.length, 2);
  assert.equal(JSON.parse(fromSdk.tools[0].arguments).city, "東京");

  // Both send the same request to the same endpoint.
  const [a, b] = requests;
  assert.equal(a.url, "http://relay.test/api/v1/chat/completions");
  assert.equal(b.url, a.url);
  assert.deepEqual(b.body, a.body);
});

test("openai SDK and RelayClient both fail on the relay's terminal error frame", { timeout: 10_000 }, async () => {
  const body = Buffer.from(
    'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"途中"},"finish_reason":null}]}\n\n' +
      'data: {"error":{"message":"upstream stalled","type":"server_error","code":"upstream_timeout","retryable":true}}\n\n',
  );
  const sdk = new OpenAI({ apiKey: "k", baseURL: "http://relay.test/api/v1", fetch: serve(body, []), maxRetries: 0 });
  const sdkErr = await (async () => {
    for await (const _ of await sdk.chat.completions.create({ model: "m", messages: [], stream: true })) void _;
  })().then(() => null, (e) => e);
  assert.ok(sdkErr, "the SDK rejects the error frame");
  assert.match(String(sdkErr.message), /upstream stalled/);

  const ourErr = await (async () => {
    for await (const _ of new RelayClient({ fetch: serve(body, []) }).stream({ dialect: "openai", model: "m", messages: [] })) void _;
  })().then(() => null, (e) => e);
  assert.equal(ourErr?.code, "upstream_timeout");
  assert.equal(ourErr.message, "upstream stalled");
});
