"""How the Azure OpenAI emulator tests call it and read what it sends back.

Shared by every Azure OpenAI emulator test module, so they all build URLs,
prompts and streams the same way and read raw SSE frames with the same checks.
"""

from __future__ import annotations

from typing import Any

import openai
from openai import Omit
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionStreamOptionsParam
from pydantic import BaseModel

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.recorder import RequestRecord
from devtools.threaded_server import ThreadedServer

API_VERSION = "2024-10-21"
API_KEY = "k"
DEPLOYMENT = "gpt-4o"
JAPANESE = "東京の天気は晴れです。🌞🍣 絵文字も大丈夫👨‍👩‍👧‍👦!"


def chat_url(server: ThreadedServer, deployment: str = DEPLOYMENT, api_version: str | None = API_VERSION) -> str:
    suffix = f"?api-version={api_version}" if api_version else ""
    return f"{server.url}/openai/deployments/{deployment}/chat/completions{suffix}"


def user(text: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": text}]


def stream(client: openai.AzureOpenAI, prompt: str, include_usage: bool = False) -> list[ChatCompletionChunk]:
    options: ChatCompletionStreamOptionsParam | Omit = {"include_usage": True} if include_usage else openai.omit
    return list(
        client.chat.completions.create(model=DEPLOYMENT, messages=user(prompt), stream=True, stream_options=options)
    )


def extra(model: BaseModel) -> dict[str, Any]:
    """The Azure-only fields the SDK keeps outside its typed model."""
    return model.model_extra or {}


def streamed_text(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(choice.delta.content or "" for chunk in chunks for choice in chunk.choices)


def raw_frames(body: bytes) -> list[bytes]:
    """Split an SSE body into frames, checking each is exactly ``data: ...`` plus a blank line."""
    assert body.endswith(b"\n\n")
    frames = body[:-2].split(b"\n\n")
    assert all(frame.startswith(b"data: ") and b"\n" not in frame for frame in frames)
    return [frame[len(b"data: ") :] for frame in frames]


def last_record(emulator: AzureOpenAIEmulator) -> RequestRecord:
    return emulator.recorder.records[-1]
