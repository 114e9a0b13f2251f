"""Upstream faults for the fault matrix: no answer at all, a corrupt chunk, nonsense usage, a bare 429."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.azure_openai.azure_openai_emulator_calls import API_KEY, chat_url, stream, user


def post(server: ThreadedServer, timeout: float = 10, **scenario: object) -> httpx.Response:
    body = {"messages": user(inline_prompt(**scenario)), "stream": True, "stream_options": {"include_usage": True}}
    return httpx.post(chat_url(server), json=body, headers={"api-key": API_KEY}, timeout=timeout)


def data_lines(response: httpx.Response) -> list[str]:
    return [line[6:] for line in response.text.split("\n") if line.startswith("data: ")]


def test_before_headers_close_drops_the_connection_unanswered(
    server: ThreadedServer, emulator: AzureOpenAIEmulator
) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        post(server, before_headers="close")
    assert emulator.recorder.records[-1].wait_finished().outcome == "closed"


def test_before_headers_stall_holds_the_connection_silent_until_the_client_leaves(
    server: ThreadedServer, emulator: AzureOpenAIEmulator
) -> None:
    with pytest.raises(httpx.ReadTimeout):
        post(server, timeout=0.5, before_headers="stall")
    record = emulator.recorder.records[-1]
    assert record.wait_finished().outcome == "stalled"
    assert record.frames_sent == 0


def test_an_unknown_before_headers_fault_is_a_scenario_error(server: ThreadedServer) -> None:
    response = post(server, before_headers="explode")
    assert response.status_code == 400 and "before_headers" in response.json()["error"]["message"]


def test_malformed_after_slips_one_cut_off_chunk_into_an_otherwise_whole_stream(server: ThreadedServer) -> None:
    lines = data_lines(post(server, text="abcdef", chunks=3, malformed_after=2))
    broken = [line for line in lines if line != "[DONE]" and not _is_json(line)]
    assert broken == ['{"choices":[{"content_filter_results":{},"delta":{"content":']
    assert lines.index(broken[0]) == 2, "after the prompt-filter frame and the role chunk"
    chunks = [json.loads(line) for line in lines if line != "[DONE]" and _is_json(line)]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "abcdef" and lines[-1] == "[DONE]"


def test_malformed_usage_reports_counts_that_are_not_numbers(
    server: ThreadedServer, client: openai.AzureOpenAI
) -> None:
    usage = json.loads(data_lines(post(server, malformed_usage=True))[-2])["usage"]
    assert usage == {"completion_tokens": None, "prompt_tokens": "x", "total_tokens": None}
    assert stream(client, inline_prompt(), include_usage=True)[-1].usage.prompt_tokens > 0  # type: ignore[union-attr]


def test_a_429_without_throttle_headers_has_no_retry_after(server: ThreadedServer) -> None:
    bare = post(server, status=429, throttle_headers=False)
    assert bare.status_code == 429
    assert not {"retry-after", "retry-after-ms", "x-ratelimit-remaining-tokens"} & set(bare.headers)
    assert post(server, status=429).headers["retry-after"] == "1"


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True
