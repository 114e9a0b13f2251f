"""What the Bedrock emulator checks in a request: its signature or API key, model id, route and conversation.

The relay signs and builds these requests; the emulator must refuse what
Bedrock refuses, never record a key, and answer non-streaming Converse too.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.scenario import inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.bedrock.bedrock_emulator_calls import (
    JAPANESE,
    MODEL,
    make_client,
    read_all,
    stream,
    text_of,
    user,
)

ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"


def test_unsigned_request_is_rejected_like_bedrock(server: ThreadedServer, app: BedrockEmulator) -> None:
    unsigned = make_client(server.url, signature_version=UNSIGNED)
    with pytest.raises(ClientError) as raised:
        unsigned.converse_stream(modelId=MODEL, messages=user("hi"))
    unsigned.close()
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"] == {"Code": "AccessDeniedException", "Message": "Authorization header is missing"}
    assert (app.recorder.records[-1].auth, app.recorder.records[-1].outcome) == ("none", "rejected")


def test_bedrock_api_key_is_accepted_and_never_recorded(
    tls_server: tuple[str, str], app: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """boto3 sends ``AWS_BEARER_TOKEN_BEDROCK`` as a Bearer header, and only over HTTPS."""
    url, ca_bundle = tls_server
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "ABSK-secret-token-123")
    bearer_client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        verify=ca_bundle,
        config=Config(retries={"max_attempts": 1}, read_timeout=10),
    )
    events = stream(bearer_client, text="ok")
    bearer_client.close()
    assert text_of(events) == "ok"
    assert app.recorder.records[-1].auth == "bearer"
    assert "ABSK-secret-token-123" not in json.dumps(app.recorder.as_dict(), ensure_ascii=False)


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/bedrock-runtime/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature=" + "a" * 64, "InvalidSignatureException"),
        ("AWS4-HMAC-SHA256 SignedHeaders=host", "IncompleteSignatureException"),
        ("Basic dXNlcjpwYXNz", "IncompleteSignatureException"),
        ("Bearer", "AccessDeniedException"),
    ],
)  # fmt: skip
def test_malformed_authorization(server: ThreadedServer, app: BedrockEmulator, authorization: str, code: str) -> None:
    headers = {"Authorization": authorization, "X-Amz-Date": "20240101T000000Z"}
    response = httpx.post(f"{server.url}/model/{MODEL}/converse-stream", json={"messages": user("hi")}, headers=headers)
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"].split(":", 1)[0] == code
    assert app.recorder.records[-1].auth == "invalid"


def test_percent_encoded_arn_model_id_and_per_key_scenario(
    client: BaseClient, server: ThreadedServer, app: BedrockEmulator
) -> None:
    admin = httpx.post(f"{server.url}/_emulator/scenarios", json={"key": ARN, "scenario": {"text": "from the ARN"}})
    assert admin.status_code == 200
    assert text_of(read_all(client.converse_stream(modelId=ARN, messages=user("plain prompt")))) == "from the ARN"
    record = app.recorder.records[-1]
    assert record.key == ARN
    assert record.path == f"/model/{quote(ARN, safe='')}/converse-stream"
    assert "%2F" in record.path and "%3A" in record.path
    assert text_of(stream(client, model=MODEL)) != "from the ARN"


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        (user("a") + user("b"), "A conversation must alternate between user and assistant roles."),
        ([{"role": "assistant", "content": [{"text": "hi"}]}], "A conversation must start with a user message."),
        ([{"role": "user", "content": []}], "The content field in the Message object at messages.0 is empty."),
    ],
)
def test_invalid_conversations_are_rejected(client: BaseClient, messages: list[Any], message: str) -> None:
    with pytest.raises(ClientError) as raised:
        client.converse_stream(modelId=MODEL, messages=messages)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["Error"]["Message"].startswith(message)


def test_inline_scenario_is_read_from_last_user_message(client: BaseClient) -> None:
    messages = [
        *user(inline_prompt(text="ignored: not the last user message")),
        {"role": "assistant", "content": [{"text": "ok"}]},
        {"role": "user", "content": [{"text": inline_prompt(text="chosen")}, {"text": "more context"}]},
    ]
    assert text_of(read_all(client.converse_stream(modelId=MODEL, messages=messages))) == "chosen"


def test_bad_inline_scenario_fails_loudly(client: BaseClient) -> None:
    with pytest.raises(ClientError) as raised:
        client.converse_stream(modelId=MODEL, messages=user(inline_prompt(txet="typo")))
    assert "unknown scenario fields: txet" in raised.value.response["Error"]["Message"]


def test_unknown_operation_is_404(server: ThreadedServer) -> None:
    response = httpx.post(f"{server.url}/model/{MODEL}/invoke-sideways", headers={"Authorization": "Bearer x"})
    assert response.status_code == 404
    assert response.headers["x-amzn-errortype"].startswith("UnknownOperationException:")


def test_non_streaming_converse(client: BaseClient) -> None:
    scenario = inline_prompt(
        text=JAPANESE, reasoning="hmm", tool_calls=[{"name": "f", "arguments": {"a": [1, 2]}, "id": "tooluse_1"}]
    )
    result = client.converse(modelId=MODEL, messages=user(scenario))
    content = result["output"]["message"]["content"]
    assert content[0]["reasoningContent"]["reasoningText"]["text"] == "hmm"
    assert content[1] == {"text": JAPANESE}
    assert content[2] == {"toolUse": {"toolUseId": "tooluse_1", "name": "f", "input": {"a": [1, 2]}}}
    assert result["stopReason"] == "tool_use" and result["usage"]["totalTokens"] > 0
