"""The Vercel AI SDK through the relay, on every alias.

``web/e2e/ai-sdk.mjs`` runs it: the default ``openai(alias)`` provider (which
calls the Responses API) for text, a tool over two steps and ``streamObject``,
and ``@ai-sdk/openai-compatible``'s chat model for ``streamObject``. The
structured-output prompts are natural, so each emulator answers from the
requested schema.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from devtools.emulators.emulator import Emulator
from devtools.emulators.scenario import inline_prompt
from tests.clients.conftest import TOOL_OUTPUT, RunNode, last_upstream_body

TEXT = "The AI SDK reads this through the Responses API, délai zéro ⏱️, one delta at a time."
ANSWER = "Paris is sunny and mild today."
WEATHER_TURNS = [
    {"text": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
    {"text": ANSWER},
]
TRIP_PROMPT = "Plan a one-week trip through Portugal in spring for two people: destination, nights, budget and stops."


def test_stream_text_reads_the_text_and_usage(run_node: RunNode, alias: str) -> None:
    prompt = inline_prompt(text=TEXT, chunks=6, prompt_tokens=9, completion_tokens=6)
    report = run_node("ai-sdk.mjs", "stream-text", alias, prompt)
    assert report["error"] is None
    assert (report["text"], report["pieces"], report["finish_reason"]) == (TEXT, 6, "stop")
    assert report["usage"] == {"input": 9, "output": 6, "total": 15}


def test_generate_text_runs_a_tool_over_two_steps(
    run_node: RunNode, alias: str, emulators: dict[str, Emulator]
) -> None:
    report = run_node("ai-sdk.mjs", "tool-steps", alias, "What is the weather in Paris?", WEATHER_TURNS)
    assert report["error"] is None
    assert report["executed"] == ["Paris"]
    first, second = report["steps"]
    assert first["finish_reason"] == "tool-calls"
    assert first["tool_calls"] == [{"name": "get_weather", "input": {"city": "Paris"}}]
    assert (second["finish_reason"], second["tool_calls"], report["text"]) == ("stop", [], ANSWER)
    assert TOOL_OUTPUT in last_upstream_body(emulators, alias)


@pytest.mark.parametrize("case", ["object-responses", "object-compatible"])
def test_stream_object_returns_an_object_of_the_schema(run_node: RunNode, alias: str, case: str) -> None:
    report = run_node("ai-sdk.mjs", case, alias, TRIP_PROMPT)
    assert report["error"] is None
    trip: dict[str, Any] = report["object"]
    jsonschema.validate(trip, report["json_schema"])
    assert report["valid"] is True
    assert report["partials"] >= 1
    assert trip["season"] in {"spring", "summer", "autumn", "winter"}
    assert all(isinstance(stop["days"], int) for stop in trip["stops"])
