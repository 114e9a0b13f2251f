"""Upstream error text is scrubbed of URLs, ids, tokens and key-shaped strings before clients see it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from devtools.emulators.scenario import inline_prompt
from shared.redaction import scrub
from tests.shared.test_chat_route import parse_events

REQUEST_ID = "3f8c0f5e-1b2a-4c3d-9e8f-0a1b2c3d4e5f"
KEYISH = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"Please include the request ID {REQUEST_ID} in your email.",
            "Please include the request ID [id] in your email.",
        ),
        ("see https://acct.blob.core.windows.net/c?sv=1&sig=abc for details", "see [url] for details"),
        ("apim-request-id: 12345abc failed", "apim-request-id: [id] failed"),
        (f"invalid api-key={KEYISH}", "invalid api-key=[redacted]"),
        ("Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer [redacted]"),
        (f"key {KEYISH} is wrong", "key [redacted] is wrong"),
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY leaked", "[redacted] leaked"),
        ("The security token AKIAIOSFODNN7EXAMPLE is invalid.", "The security token [redacted] is invalid."),
        ("temporary ASIAY34FZKBOKMUTVV7A expired", "temporary [redacted] expired"),
        ("openai said sk-proj-abc123DEF456ghi789 is wrong", "openai said [redacted] is wrong"),
        ("google key AIzaSyA1bcD2efG3hiJ4klM5noP6qrS7tuV8wxY", "google key [redacted]"),
        ("see 'https://x.example/a?sig=1' for more", "see '[url]' for more"),
        (
            "This model's maximum context length is 128000 tokens.",
            "This model's maximum context length is 128000 tokens.",
        ),
        (
            "Unrecognized request argument supplied: data_sources",
            "Unrecognized request argument supplied: data_sources",
        ),
    ],
)
def test_scrub(text: str, expected: str) -> None:
    assert scrub(text) == expected
    assert scrub(expected) == expected


def test_scrubbed_text_can_always_be_written_as_utf8() -> None:
    # An upstream's JSON error may hold a "\\ud800" escape; the client's error frame must still encode.
    assert scrub("bad \ud800 input").encode("utf-8") == b"bad \\ud800 input"


def test_scrubbed_text_is_bounded() -> None:
    assert len(scrub("word " * 1000)) == 500


def test_an_upstream_400_reaches_the_client_scrubbed(http: httpx.Client, azure: Any) -> None:
    message = f"Bad input; see https://example.openai.azure.com/x?api-key={KEYISH} (request id {REQUEST_ID})"
    body = {
        "model": "azure",
        "messages": [{"role": "user", "content": inline_prompt(status=400, error_message=message)}],
    }
    response = http.post("/api/v1/chat/completions", json=body)
    assert response.status_code == 400
    relayed = response.json()["error"]["message"]
    assert relayed == "Bad input; see [url] (request id [id])"
    assert KEYISH not in response.text and REQUEST_ID not in response.text


SECRET_LOOKING = f"failed for AKIAIOSFODNN7EXAMPLE at https://bedrock.example/x?sig=abc (request-id: {REQUEST_ID})"
SCRUBBED_MID_STREAM = "the upstream failed mid-stream: failed for [redacted] at [url] (request-id: [id])"


def mid_stream_error(prompt_fields: dict[str, Any]) -> str:
    return inline_prompt(text="abcdefgh", chunks=8, error_after=4, error_message=SECRET_LOOKING, **prompt_fields)


@pytest.mark.parametrize("exception", ["modelStreamErrorException", "internalServerException"])
def test_a_bedrock_mid_stream_error_is_scrubbed_on_both_dialects(
    bedrock_http: httpx.Client, bedrock: Any, exception: str
) -> None:
    prompt = mid_stream_error({"error_code": exception})
    body = {"model": "bedrock", "stream": True, "messages": [{"role": "user", "content": prompt}]}
    openai_frames = bedrock_http.post("/api/v1/chat/completions", json=body).text
    typed = parse_events(bedrock_http.post("/api/chat", json={"model": "bedrock", "prompt": prompt}).content)
    assert typed[-1][0] == "error" and typed[-1][1]["message"] == SCRUBBED_MID_STREAM
    last = [line for line in openai_frames.split("\n") if line.startswith("data: ")][-1]
    assert json.loads(last[len("data: ") :])["error"]["message"] == SCRUBBED_MID_STREAM
    for raw in (openai_frames, str(typed)):
        assert "AKIA" not in raw and "sig=abc" not in raw and REQUEST_ID not in raw
