"""openai-node's Responses API through the relay, on every alias.

``web/e2e/openai-responses.mjs`` runs the SDK; these tests hold what it saw
to OpenAI's wire contract: event order and sequence numbers, the text and
usage, and a function call answered over two turns.
"""

from __future__ import annotations

import json

from devtools.emulators.emulator import Emulator
from devtools.emulators.scenario import inline_prompt
from tests.clients.conftest import TOOL_OUTPUT, RunNode, last_upstream_body

TEXT = "Bonjour! Streaming through the relay — ça marche 🚀 and every piece arrives in order."
TERMINAL = {"response.completed", "response.failed", "response.incomplete", "error"}
WEATHER_TURNS = [
    {"text": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
    {"text": "It is sunny in Paris, 18 degrees."},
]


def test_responses_create_streams_the_text_and_usage(run_node: RunNode, alias: str) -> None:
    prompt = inline_prompt(text=TEXT, chunks=7, prompt_tokens=11, completion_tokens=7)
    report = run_node("openai-responses.mjs", "create-stream", alias, prompt)
    assert report["error"] is None
    types = report["types"]
    assert (types[0], types[1], types[-1]) == ("response.created", "response.in_progress", "response.completed")
    assert [kind for kind in types if kind in TERMINAL] == ["response.completed"]
    assert report["sequence_numbers"] == list(range(len(types)))
    assert (report["text"], report["deltas"], report["done_text"]) == (TEXT, 7, TEXT)
    final = report["final"]
    assert (final["status"], final["text"]) == ("completed", TEXT)
    usage = final["usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (11, 7, 18)


def test_the_stream_helper_builds_the_final_response(run_node: RunNode, alias: str) -> None:
    report = run_node("openai-responses.mjs", "stream-helper", alias, inline_prompt(text=TEXT, chunks=5))
    assert report["error"] is None
    assert (report["deltas"], report["output_text"], report["text"]) == (TEXT, TEXT, TEXT)
    assert (report["status"], report["model"]) == ("completed", alias)
    assert report["id"].startswith("resp_")
    assert report["usage"]["output_tokens"] == 5


def test_a_function_call_is_answered_over_two_turns(
    run_node: RunNode, alias: str, emulators: dict[str, Emulator]
) -> None:
    report = run_node(
        "openai-responses.mjs", "function-calls", alias, "What is the weather in Paris right now?", WEATHER_TURNS
    )
    assert report["error"] is None
    [call] = report["calls"]
    assert call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"city": "Paris"}
    assert call["call_id"]
    assert report["first_status"] == "completed"
    assert (report["answer"], report["answer_status"]) == ("It is sunny in Paris, 18 degrees.", "completed")
    assert TOOL_OUTPUT in last_upstream_body(emulators, alias)
