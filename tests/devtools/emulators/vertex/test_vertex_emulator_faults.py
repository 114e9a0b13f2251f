"""Upstream faults for the fault matrix on both Vertex endpoints: no answer, a corrupt frame, nonsense usage."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from devtools.emulators.scenario import inline_prompt
from devtools.emulators.vertex import VertexEmulator
from devtools.emulators.vertex_frames import malformed_frames
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.vertex.vertex_emulator_calls import OPENAI_MODEL, native_body, native_url


def openai_url(server: ThreadedServer) -> str:
    return f"{server.url}/v1/projects/demo-project/locations/us-central1/endpoints/openapi/chat/completions"


def post(server: ThreadedServer, token: str, api: str, timeout: float = 10, **scenario: Any) -> httpx.Response:
    prompt = inline_prompt(**scenario)
    if api == "native":
        url, body = native_url(server.url), native_body(prompt)
    else:
        url = openai_url(server)
        body = {"model": OPENAI_MODEL, "stream": True, "messages": [{"role": "user", "content": prompt}]}
    return httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)


def data_lines(response: httpx.Response) -> list[str]:
    return [line.strip()[6:] for line in response.text.split("\n") if line.startswith("data: ")]


@pytest.mark.parametrize("api", ["openai", "native"])
def test_before_headers_close_drops_the_connection_unanswered(
    server: ThreadedServer, emulator: VertexEmulator, token: str, api: str
) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        post(server, token, api, before_headers="close")
    assert emulator.recorder.records[-1].wait_finished().outcome == "closed"


@pytest.mark.parametrize("api", ["openai", "native"])
def test_before_headers_stall_never_answers(
    server: ThreadedServer, emulator: VertexEmulator, token: str, api: str
) -> None:
    with pytest.raises(httpx.ReadTimeout):
        post(server, token, api, timeout=0.5, before_headers="stall")
    assert emulator.recorder.records[-1].wait_finished().outcome == "stalled"


@pytest.mark.parametrize(
    ("api", "broken"),
    [
        ("openai", '{"choices":[{"delta":{"content":'),
        ("native", '{"candidates":[{"content":{"role":"model","parts":[{"text":'),
    ],
)
def test_malformed_after_slips_in_one_frame_cut_off_mid_json(
    server: ThreadedServer, token: str, api: str, broken: str
) -> None:
    lines = data_lines(post(server, token, api, text="abcd", chunks=2, malformed_after=1))
    assert lines[1] == broken
    with pytest.raises(ValueError):
        json.loads(lines[1])
    assert len(lines) == (4 if api == "openai" else 3), "the rest of the stream follows, [DONE] included for openai"


def test_malformed_frames_match_each_wire_format() -> None:
    assert malformed_frames("native-sse")[0].endswith(b"\r\n\r\n")
    assert malformed_frames("openai-stream")[0].endswith(b"\n\n") and not malformed_frames("openai-stream")[0].endswith(
        b"\r\n\r\n"
    )
    assert not malformed_frames("native")[0].startswith(b"data: ")


def test_malformed_usage_on_both_endpoints(server: ThreadedServer, token: str) -> None:
    openai_usage = json.loads(data_lines(post(server, token, "openai", malformed_usage=True))[-2])["usage"]
    assert openai_usage == {"completion_tokens": None, "prompt_tokens": "x", "total_tokens": None}
    native = json.loads(data_lines(post(server, token, "native", malformed_usage=True))[-1])["usageMetadata"]
    assert (native["promptTokenCount"], native["candidatesTokenCount"]) == ("x", None)
