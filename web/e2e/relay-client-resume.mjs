// Streams one answer through running relays with relay-client.js, resumable, and cuts the
// connection after RELAY_CUT_AFTER events as a network switch would; the client must resume on its
// own. Reconnects go to RELAY_RESUME_URL (another instance) when it is set. Prints one JSON line:
// the text, the finish reason and the requests made. tests/web/test_relay_client_resume.py runs it.
import { RelayClient } from "../relay-client.js";

const { RELAY_BASE_URL, RELAY_RESUME_URL, RELAY_PROMPT = "Hello", RELAY_DIALECT = "events" } = process.env;
const CUT_AFTER = Number(process.env.RELAY_CUT_AFTER ?? 3);
if (!RELAY_BASE_URL) {
  console.error("RELAY_BASE_URL is required");
  process.exit(2);
}

const requests = [];

/** A body that fails like a dropped connection once `events` SSE events have passed. */
function cutAfter(body, events) {
  let seen = 0;
  let tail = "";
  const decoder = new TextDecoder();
  return body.pipeThrough(new TransformStream({
    transform(chunk, controller) {
      const text = tail + decoder.decode(chunk, { stream: true });
      const parts = text.split("\n\n");
      tail = parts.pop();
      for (const part of parts) {
        if (part.startsWith(":")) continue;
        controller.enqueue(new TextEncoder().encode(part + "\n\n"));
        if (++seen === events) throw new TypeError("network connection lost");
      }
    },
  }));
}

async function cuttingFetch(url, init) {
  const headers = init?.headers ?? {};
  const target = init?.method === "GET" && RELAY_RESUME_URL ? url.replace(RELAY_BASE_URL, RELAY_RESUME_URL) : url;
  requests.push({ method: init?.method ?? "GET", url: target, last_event_id: headers["Last-Event-ID"] ?? null });
  const res = await fetch(target, init);
  if (init?.method !== "POST" || !res.body) return res;
  return new Response(cutAfter(res.body, CUT_AFTER), { status: res.status, headers: res.headers });
}

const client = new RelayClient({ baseUrl: RELAY_BASE_URL, apiKey: "relay-client-key", fetch: cuttingFetch });
const result = { text: "", finish_reason: null, stream_id: null, requests, error: null };
try {
  const options = { model: "azure", prompt: RELAY_PROMPT, dialect: RELAY_DIALECT, resumable: { backoffMs: 50 } };
  for await (const ev of client.stream({ ...options, onStreamId: (id) => (result.stream_id = id) })) {
    if (ev.type === "text_delta") result.text += ev.content;
    if (ev.type === "done") result.finish_reason = ev.finish_reason;
  }
} catch (err) {
  result.error = { code: err.code, message: err.message };
}
console.log(JSON.stringify(result));
