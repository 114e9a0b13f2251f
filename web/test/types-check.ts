// Compile-only check of relay-client.d.ts (npm run typecheck; also run by test/types.test.js).
// Each @ts-expect-error line must be an error, so the declarations cannot silently loosen.
import { RelayClient, RelayError, SSEParser } from "../relay-client.js";
import type { RelayEvent, StreamOptions, ChatResult, SSEEvent, ToolCallEvent, TextDeltaEvent } from "../relay-client.js";

const client = new RelayClient({
  baseUrl: "https://relay.example",
  getToken: async () => "t",
  headers: { "x-functions-key": "k" },
  fetch: globalThis.fetch,
});
new RelayClient();
new RelayClient({ apiKey: "sk" });
// @ts-expect-error apiKey must be a string
new RelayClient({ apiKey: 42 });

const opts: StreamOptions = { dialect: "openai", model: "m", messages: [{ role: "user", content: "hi" }], signal: new AbortController().signal };
// @ts-expect-error unknown dialect
const bad: StreamOptions = { dialect: "grpc", model: "m" };
// @ts-expect-error model is required
client.stream({ prompt: "x" });

async function consume(): Promise<string> {
  let text = "";
  for await (const ev of client.stream(opts)) {
    const e: RelayEvent = ev;
    switch (e.type) {
      case "text_delta":
      case "thinking":
        text += e.content;
        break;
      case "tool_call": {
        const t: ToolCallEvent = e;
        const id: string | null = t.id;
        const args: string = t.arguments_delta;
        void id; void args;
        break;
      }
      case "usage":
        text += e.total_tokens.toFixed(0);
        break;
      case "done": {
        const r: string | null = e.finish_reason;
        void r;
        break;
      }
      default: {
        const never: never = e;
        void never;
      }
    }
    // @ts-expect-error content exists only on text events
    void ev.content;
  }
  return text;
}

async function viaChat(): Promise<void> {
  const text: string = await client.chat(opts, {
    onText: (delta: string, all: string) => void (delta + all),
    onEvent: (e: RelayEvent) => void e.type,
    onDone: (r: ChatResult) => void r.tool_calls.map((t) => t.arguments),
    onError: (err: RelayError) => {
      const s: number | null = err.status;
      const c: string = err.code;
      const ok: boolean = err.retryable;
      const after: number | null = err.retryAfter;
      void [s, c, ok, after];
    },
  });
  void text;
}

// @ts-expect-error events are exact shapes: no extra properties
const extra: TextDeltaEvent = { type: "text_delta", content: "a", extra: 1 };

const err = new RelayError("x", { status: 429, code: "rate_limited", retryable: true, retryAfter: 3, cause: new Error("y") });
const isErr: Error = err;
// @ts-expect-error status is number | null
const st: number = err.status;

const p = new SSEParser();
const evs: SSEEvent[] = p.feed("data: x\n\n").concat(p.feed(new Uint8Array([10])), p.end());
const last: string = p.lastEventId;
const retry: number | undefined = p.retry;
// @ts-expect-error feed takes text or bytes only
p.feed(123);

void [consume, viaChat, bad, extra, isErr, st, evs, last, retry];
