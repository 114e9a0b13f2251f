// The official `openai` SDK's Responses API through the relay (tests/clients/test_openai_node.py).
// Cases: "create-stream" (responses.create with stream: true), "stream-helper" (responses.stream()
// and finalResponse()), "function-calls" (a function call answered over two turns).
import OpenAI from "openai";
import { apiKey, relay, runCase, scriptEmulators, turnScenarios } from "./harness.mjs";

const client = new OpenAI({ baseURL: relay.api, apiKey, maxRetries: 0 });

const WEATHER_TOOL = {
  type: "function",
  name: "get_weather",
  description: "The current weather in a city.",
  parameters: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  },
  strict: true,
};

/** The text of a response's message items, read from the output itself. */
function outputText(response) {
  return response.output
    .filter((item) => item.type === "message")
    .flatMap((item) => item.content)
    .filter((part) => part.type === "output_text")
    .map((part) => part.text)
    .join("");
}

async function createStream() {
  const stream = await client.responses.create({ model: relay.model, input: relay.prompt, stream: true });
  const report = { types: [], sequence_numbers: [], text: "", deltas: 0, done_text: null, final: null };
  for await (const event of stream) {
    report.types.push(event.type);
    report.sequence_numbers.push(event.sequence_number);
    if (event.type === "response.output_text.delta") {
      report.text += event.delta;
      report.deltas += 1;
    }
    if (event.type === "response.output_text.done") report.done_text = event.text;
    if (event.type === "response.completed") {
      report.final = { status: event.response.status, usage: event.response.usage, text: outputText(event.response) };
    }
  }
  return report;
}

async function streamHelper() {
  const stream = client.responses.stream({ model: relay.model, input: relay.prompt });
  let deltas = "";
  stream.on("response.output_text.delta", (event) => {
    deltas += event.delta;
  });
  const final = await stream.finalResponse();
  return {
    deltas,
    status: final.status,
    model: final.model,
    id: final.id,
    output_text: final.output_text,
    text: outputText(final),
    usage: final.usage,
  };
}

async function functionCalls() {
  const [first, second] = turnScenarios();
  await scriptEmulators(first);
  const input = [{ role: "user", content: relay.prompt }];
  const asked = await client.responses.stream({ model: relay.model, input, tools: [WEATHER_TOOL] }).finalResponse();
  // The next turn replays the output as the helper returned it, as apps do: its function_call
  // items also carry the SDK-side `parsed_arguments`, which the relay must accept.
  const calls = asked.output.filter((item) => item.type === "function_call");
  await scriptEmulators(second);
  const outputs = calls.map((call) => ({
    type: "function_call_output",
    call_id: call.call_id,
    output: JSON.stringify({ city: JSON.parse(call.arguments).city, forecast: process.env.RELAY_TOOL_OUTPUT }),
  }));
  const answered = await client.responses.create({
    model: relay.model,
    input: [...input, ...asked.output, ...outputs],
    tools: [WEATHER_TOOL],
  });
  return {
    calls,
    first_status: asked.status,
    answer: outputText(answered),
    answer_status: answered.status,
    answer_usage: answered.usage,
  };
}

await runCase({ "create-stream": createStream, "stream-helper": streamHelper, "function-calls": functionCalls });
