"""Cached and reasoning token counts reach the client from every provider, in every dialect.

Each emulator reports the same scenario in its service's own usage fields, so
these tests check the translation from Azure's ``*_tokens_details``, Bedrock's
``cacheRead/WriteInputTokens`` (which ``inputTokens`` leaves out) and Gemini's
``cachedContentTokenCount``/``thoughtsTokenCount`` (which ``candidatesTokenCount``
leaves out) to OpenAI's meaning: cached tokens are part of the prompt tokens,
reasoning tokens part of the completion tokens.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import httpx
import openai
import pytest

from devtools.emulators.scenario import inline_prompt
from tests.builders import AUTH_HEADERS
from tests.shared.test_chat_route import names, stream

REASONING = "Weigh the cache first, then the answer."  # 39 characters
PROMPT = inline_prompt(
    text="Cached answer.",
    prompt_tokens=40,
    completion_tokens=10,
    cached_tokens=24,
    cache_write_tokens=8,
    reasoning=REASONING,
)


class Expected(NamedTuple):
    prompt: int
    completion: int
    cached: int
    reasoning: int


# Azure counts ceil(39 / 4) = 10 reasoning tokens; the Vertex emulator one per reasoning piece (8);
# Converse reports no reasoning count (thinking is inside outputTokens), and its cache writes are
# part of the prompt tokens but have no OpenAI field of their own.
EXPECTED = {
    "azure": Expected(prompt=40, completion=20, cached=24, reasoning=10),
    "bedrock": Expected(prompt=40, completion=10, cached=24, reasoning=0),
    "vertex": Expected(prompt=40, completion=18, cached=24, reasoning=8),
    "vertex-native": Expected(prompt=40, completion=18, cached=24, reasoning=8),
}
ALIASES = list(EXPECTED)


def chat_counts(usage: Any) -> Expected:
    return Expected(
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.prompt_tokens_details.cached_tokens,
        usage.completion_tokens_details.reasoning_tokens,
    )


@pytest.mark.parametrize("alias", ALIASES)
def test_chat_completion_usage_has_the_details(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str
) -> None:
    completion = every_provider_sdk.chat.completions.create(model=alias, messages=[{"role": "user", "content": PROMPT}])
    assert completion.usage is not None
    assert chat_counts(completion.usage) == EXPECTED[alias]
    assert completion.usage.total_tokens == EXPECTED[alias].prompt + EXPECTED[alias].completion


@pytest.mark.parametrize("alias", ALIASES)
def test_streamed_chat_usage_chunk_has_the_details(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str
) -> None:
    chunks = every_provider_sdk.chat.completions.create(
        model=alias,
        messages=[{"role": "user", "content": PROMPT}],
        stream=True,
        stream_options={"include_usage": True},
    )
    usages = [chunk.usage for chunk in chunks if chunk.usage is not None]
    assert len(usages) == 1
    assert chat_counts(usages[0]) == EXPECTED[alias]


@pytest.mark.parametrize("alias", ALIASES)
def test_typed_usage_event_has_the_details(
    every_provider_relay_url: str, alias_emulators: dict[str, Any], alias: str
) -> None:
    with httpx.Client(base_url=every_provider_relay_url, timeout=30, headers=AUTH_HEADERS) as http:
        _, _, events = stream(http, {"model": alias, "prompt": PROMPT})
    assert names(events)[-2:] == ["usage", "done"]
    usage = events[-2][1]
    counts = Expected(
        usage["prompt_tokens"], usage["completion_tokens"], usage["cached_tokens"], usage["reasoning_tokens"]
    )
    assert counts == EXPECTED[alias]


def responses_counts(usage: Any) -> Expected:
    return Expected(
        usage.input_tokens,
        usage.output_tokens,
        usage.input_tokens_details.cached_tokens,
        usage.output_tokens_details.reasoning_tokens,
    )


@pytest.mark.parametrize("alias", ALIASES)
def test_responses_usage_has_the_details(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str
) -> None:
    response = every_provider_sdk.responses.create(model=alias, input=PROMPT)
    assert response.usage is not None
    assert responses_counts(response.usage) == EXPECTED[alias]


@pytest.mark.parametrize("alias", ALIASES)
def test_streamed_responses_usage_has_the_details(
    every_provider_sdk: openai.OpenAI, alias_emulators: dict[str, Any], alias: str
) -> None:
    with every_provider_sdk.responses.stream(model=alias, input=PROMPT) as events:
        for _ in events:
            pass
        response = events.get_final_response()
    assert response.usage is not None
    assert responses_counts(response.usage) == EXPECTED[alias]
