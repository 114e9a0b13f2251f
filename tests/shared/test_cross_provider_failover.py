"""One alias over three providers: Azure OpenAI first, then Bedrock, then Vertex AI."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.vertex import VertexEmulator
from tests.builders import BEDROCK_MODEL, RELAY_TEST_KEY, serve_cross_provider_relay

VERTEX_KEY = "google/gemini-2.0-flash-001"


@pytest.fixture
def relay(azure: AzureOpenAIEmulator, bedrock: BedrockEmulator, vertex: VertexEmulator) -> Iterator[str]:
    with serve_cross_provider_relay(azure, bedrock, vertex, "openai") as url:
        yield url


def stream(relay: str, **kwargs: object) -> tuple[str, str, str]:
    """The streamed text, the backend that answered and the attempt count."""
    with openai.OpenAI(base_url=f"{relay}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="chat", messages=[{"role": "user", "content": "hi"}], stream=True, **kwargs
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in raw.parse() if chunk.choices)
        return text, raw.headers["x-relay-backend"], raw.headers["x-relay-attempts"]


def test_azure_serves_when_healthy(relay: str, azure: AzureOpenAIEmulator) -> None:
    azure.book.set("azure-first", {"text": "from azure"})
    assert stream(relay) == ("from azure", "azure-first", "1")


def test_azure_429_falls_over_to_bedrock(relay: str, azure: AzureOpenAIEmulator, bedrock: BedrockEmulator) -> None:
    azure.book.set("azure-first", {"status": 429, "retry_after": 30})
    bedrock.book.set(BEDROCK_MODEL, {"text": "from bedrock 🪨"})
    assert stream(relay) == ("from bedrock 🪨", "bedrock-second", "2")


def test_azure_and_bedrock_down_falls_over_to_vertex(
    relay: str, azure: AzureOpenAIEmulator, bedrock: BedrockEmulator, vertex: VertexEmulator
) -> None:
    azure.book.set("azure-first", {"status": 429, "retry_after": 30})
    bedrock.book.set(BEDROCK_MODEL, {"status": 503})
    vertex.book.set(VERTEX_KEY, {"text": "from vertex 東京"})
    assert stream(relay) == ("from vertex 東京", "vertex-third", "3")
    assert [record.key for record in bedrock.recorder.records] == [BEDROCK_MODEL]


def test_cooled_down_backends_are_skipped_on_the_next_request(
    relay: str, azure: AzureOpenAIEmulator, bedrock: BedrockEmulator, vertex: VertexEmulator
) -> None:
    azure.book.set("azure-first", {"status": 429, "retry_after": 30})
    bedrock.book.set(BEDROCK_MODEL, {"status": 429})
    vertex.book.set(VERTEX_KEY, {"text": "v"})
    stream(relay)
    azure_calls, bedrock_calls = len(azure.recorder.records), len(bedrock.recorder.records)
    assert stream(relay) == ("v", "vertex-third", "1")
    assert (len(azure.recorder.records), len(bedrock.recorder.records)) == (azure_calls, bedrock_calls)
