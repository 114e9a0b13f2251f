// Streams one chat completion through a running relay with the official `openai`
// SDK and prints what the SDK reassembled, as one JSON line on stdout.
// tests/web/test_openai_js_sdk.py runs it with RELAY_BASE_URL (required),
// RELAY_MODEL and RELAY_PROMPT; it lives outside test/ so `npm test` skips it.
import OpenAI from "openai";
import { VERSION } from "openai/version";

const { RELAY_BASE_URL, RELAY_MODEL = "azure", RELAY_PROMPT = "Hello" } = process.env;
if (!RELAY_BASE_URL) {
  console.error("RELAY_BASE_URL is required");
  process.exit(2);
}

const client = new OpenAI({ baseURL: `${RELAY_BASE_URL}/api/v1`, apiKey: "relay-client-key", maxRetries: 0 });
const result = {
  sdk_version: VERSION,
  node_version: process.version,
  text: "",
  content_chunks: 0,
  finish_reason: null,
  usage: null,
  tool_calls: [],
  error: null,
};

try {
  const stream = await client.chat.completions.create({
    model: RELAY_MODEL,
    messages: [{ role: "user", content: RELAY_PROMPT }],
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    if (chunk.usage) result.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (choice.delta.content) {
      result.text += choice.delta.content;
      result.content_chunks += 1;
    }
    for (const call of choice.delta.tool_calls ?? []) {
      const slot = (result.tool_calls[call.index] ??= { id: null, name: null, arguments: "" });
      slot.id ??= call.id ?? null;
      slot.name ??= call.function?.name ?? null;
      slot.arguments += call.function?.arguments ?? "";
    }
    if (choice.finish_reason) result.finish_reason = choice.finish_reason;
  }
} catch (err) {
  result.error = {
    class: err instanceof OpenAI.APIError ? err.constructor.name : String(err?.name),
    status: err?.status ?? null,
    code: err?.code ?? null,
    message: String(err?.message),
  };
}
process.stdout.write(`${JSON.stringify(result)}\n`);
