"""Calling the relay's Bedrock aliases in the end-to-end Bedrock tests: messages, streams, SSE frames."""

from __future__ import annotations

from typing import Any

import httpx
import openai


def user(content: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": content}]


def stream_chunks(client: openai.OpenAI, prompt: str, model: str = "bedrock", **kwargs: Any) -> list[Any]:
    return list(client.chat.completions.create(model=model, messages=user(prompt), stream=True, **kwargs))


def text_of(chunks: list[Any]) -> str:
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


def sse_frames(response: httpx.Response) -> list[str]:
    """The data payloads of an SSE response, in order."""
    return [line[len("data: ") :] for line in response.text.split("\n") if line.startswith("data: ")]


def post_stream(http: httpx.Client, prompt: str, **body: Any) -> list[str]:
    response = http.post(
        "/api/v1/chat/completions", json={"model": "bedrock", "stream": True, "messages": user(prompt), **body}
    )
    assert response.status_code == 200, response.text
    return sse_frames(response)
