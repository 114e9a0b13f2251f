"""How the Bedrock emulator tests call it through boto3 and read the events it streams back.

Shared by every Bedrock emulator test module, so they all build clients and
prompts the same way and always close the event stream they read.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from devtools.emulators.scenario import inline_prompt

MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
JAPANESE = "こんにちは、世界！絵文字も 🚀🎉👩‍👩‍👧 ちゃんと届く。"

Event = dict[str, Any]


def make_client(url: str, **config: Any) -> BaseClient:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(**{"retries": {"max_attempts": 1}, "read_timeout": 10, "connect_timeout": 5, **config}),
    )


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def read_all(response: dict[str, Any]) -> list[Event]:
    """Every event of a ConverseStream response; the connection is closed whatever happens."""
    events, error = read_until_error(response)
    if error is not None:
        raise error
    return events


def read_until_error(response: dict[str, Any]) -> tuple[list[Event], Exception | None]:
    """The events read before the stream failed, and how it failed (None when it did not)."""
    events: list[Event] = []
    try:
        for event in response["stream"]:
            events.append(event)
    except Exception as exc:
        return events, exc
    finally:
        response["stream"].close()
    return events, None


def stream(client: BaseClient, model: str = MODEL, **scenario: Any) -> list[Event]:
    return read_all(client.converse_stream(modelId=model, messages=user(inline_prompt(**scenario))))


def text_of(events: list[Event], index: int | None = None) -> str:
    deltas = [e["contentBlockDelta"] for e in events if "contentBlockDelta" in e]
    return "".join(d["delta"].get("text", "") for d in deltas if index is None or d["contentBlockIndex"] == index)


def kinds(events: list[Event]) -> list[str]:
    return [next(iter(event)) for event in events]
