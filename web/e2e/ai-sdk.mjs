// The Vercel AI SDK through the relay (tests/clients/test_ai_sdk.py). `openai(alias)` from
// @ai-sdk/openai calls the Responses API; @ai-sdk/openai-compatible's chat model calls
// Chat Completions. Cases: "stream-text", "tool-steps", "object-responses", "object-compatible".
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText, stepCountIs, streamObject, streamText, tool } from "ai";
import { z } from "zod";
import { apiKey, relay, runCase, scriptEmulators, turnScenarios } from "./harness.mjs";

const openai = createOpenAI({ baseURL: relay.api, apiKey });
const compatible = createOpenAICompatible({
  name: "relay",
  baseURL: relay.api,
  apiKey,
  includeUsage: true,
  supportsStructuredOutputs: true,
});

/** A schema with the shapes zod users write: nesting, arrays, enums, numbers, booleans. */
const Trip = z.object({
  destination: z.string(),
  nights: z.number().int(),
  budget_eur: z.number(),
  season: z.enum(["spring", "summer", "autumn", "winter"]),
  refundable: z.boolean(),
  stops: z.array(z.object({ city: z.string(), days: z.number().int() })),
});

async function streamTextCase() {
  const result = streamText({ model: openai(relay.model), prompt: relay.prompt, maxRetries: 0 });
  const pieces = [];
  for await (const piece of result.textStream) pieces.push(piece);
  const usage = await result.usage;
  return {
    text: pieces.join(""),
    pieces: pieces.length,
    finish_reason: await result.finishReason,
    usage: { input: usage.inputTokens, output: usage.outputTokens, total: usage.totalTokens },
  };
}

async function toolSteps() {
  const [first, second] = turnScenarios();
  await scriptEmulators(first);
  const executed = [];
  const getWeather = tool({
    description: "The current weather in a city.",
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      executed.push(city);
      await scriptEmulators(second);
      return { city, forecast: process.env.RELAY_TOOL_OUTPUT };
    },
  });
  const result = await generateText({
    model: openai(relay.model),
    prompt: relay.prompt,
    tools: { get_weather: getWeather },
    stopWhen: stepCountIs(2),
    maxRetries: 0,
  });
  return {
    executed,
    steps: result.steps.map((step) => ({
      finish_reason: step.finishReason,
      tool_calls: step.toolCalls.map((call) => ({ name: call.toolName, input: call.input })),
      text: step.text,
    })),
    text: result.text,
  };
}

async function objectCase(model) {
  const result = streamObject({ model, schema: Trip, prompt: relay.prompt, maxRetries: 0 });
  let partials = 0;
  for await (const _partial of result.partialObjectStream) partials += 1;
  const object = await result.object;
  return { object, partials, valid: Trip.safeParse(object).success, json_schema: z.toJSONSchema(Trip) };
}

await runCase({
  "stream-text": streamTextCase,
  "tool-steps": toolSteps,
  "object-responses": () => objectCase(openai(relay.model)),
  "object-compatible": () => objectCase(compatible.chatModel(relay.model)),
});
