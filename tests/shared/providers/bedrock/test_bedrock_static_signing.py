"""Static keys: after the first request, ConverseStream is signed by botocore's SigV4 alone, byte for byte as boto3."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import botocore.auth
import pytest

from shared.errors import Untranslatable
from shared.providers.bedrock.settings import BedrockSettings
from shared.providers.bedrock.transport import ConverseClient

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
KEYS = {"KEY_ID": "AKIDEXAMPLESTATIC", "SECRET": "static-secret-for-tests", "TOKEN": "session-token-for-tests"}
PARAMS: dict[str, Any] = {
    "modelId": MODEL,
    "messages": [
        {
            "role": "user",
            "content": [
                {"text": "héllo"},
                {"image": {"format": "png", "source": {"bytes": b"\x89PNG\r\n\x1a\n"}}},
            ],
        }
    ],
    "inferenceConfig": {"maxTokens": 100, "temperature": 0.5},
}
INVOCATION = uuid.UUID("12345678-1234-4234-8234-123456789abc")
FROZEN = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


def client(**overrides: Any) -> ConverseClient:
    settings = BedrockSettings(
        name="east",
        provider="bedrock",
        model_id=MODEL,
        region="us-east-1",
        access_key_id_setting="KEY_ID",
        secret_access_key_setting="SECRET",
        **overrides,
    )
    return ConverseClient(settings, KEYS)


def boto_calls(converse: ConverseClient) -> list[int]:
    """Counts boto3's full ConverseStream calls (the fast path emits no client events)."""
    calls: list[int] = []
    converse._boto.meta.events.register("before-call.bedrock-runtime.ConverseStream", lambda **_: calls.append(1))
    return calls


def comparable(request: Any) -> tuple[str, str, bytes, dict[str, str]]:
    """What goes on the wire (the transport sends str and bytes header values alike as text)."""
    headers = {name: value.decode() if isinstance(value, bytes) else value for name, value in request.headers.items()}
    return request.method, request.url, request.body, headers


@pytest.mark.parametrize("overrides", [{}, {"session_token_setting": "TOKEN"}])
def test_later_requests_are_signed_as_boto3_signs_them(
    monkeypatch: pytest.MonkeyPatch, overrides: dict[str, Any]
) -> None:
    # The date and the invocation id are signed; frozen, the two paths must sign identically.
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: FROZEN)
    monkeypatch.setattr(uuid, "uuid4", lambda: INVOCATION)
    fast, full = client(**overrides), client(**overrides)
    calls = boto_calls(fast)
    first, second = fast.sign(PARAMS), fast.sign(PARAMS)
    assert calls == [1]  # only the first request went through boto3's full call
    by_boto3 = full.sign(PARAMS)  # a fresh client's first request is always boto3's
    assert comparable(second) == comparable(first) == comparable(by_boto3)
    assert second.headers["amz-sdk-invocation-id"] == str(INVOCATION)
    assert "Signature=" in second.headers["Authorization"]


def test_invalid_parameters_after_the_first_are_still_untranslatable() -> None:
    converse = client()
    converse.sign(PARAMS)
    with pytest.raises(Untranslatable, match="cannot be sent to Bedrock"):
        converse.sign({**PARAMS, "inferenceConfig": {"maxTokens": "many"}})


def test_a_bedrock_api_key_keeps_boto3s_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-for-tests")
    settings = BedrockSettings(name="east", provider="bedrock", model_id=MODEL, region="us-east-1")
    converse = ConverseClient(settings, {"AWS_BEARER_TOKEN_BEDROCK": "bedrock-api-key-for-tests"})
    calls = boto_calls(converse)
    requests = [converse.sign(PARAMS), converse.sign(PARAMS)]
    assert calls == [1, 1]
    assert all(
        r.headers["Authorization"] == b"Bearer bedrock-api-key-for-tests"
        or r.headers["Authorization"] == "Bearer bedrock-api-key-for-tests"
        for r in requests
    )
