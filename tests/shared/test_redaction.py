"""Upstream error text is scrubbed of URLs, ids, tokens and key-shaped strings before clients see it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from devtools.emulators.scenario import inline_prompt
from shared.redaction import scrub

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
