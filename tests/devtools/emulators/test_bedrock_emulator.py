"""The Bedrock emulator, exercised by the real boto3 client over real HTTP.

Nothing is mocked: botocore signs, serialises, percent-encodes the model id,
parses the binary event stream and raises its own exceptions, so anything the
emulator gets wrong on the wire fails here the way it would fail the relay.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import httpx
import pytest
import urllib3
import uvicorn
from botocore import UNSIGNED
from botocore.client import BaseClient
from botocore.config import Config
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import ClientError, EventStreamError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devtools.emulators.bedrock import BedrockEmulator, create_app
from devtools.emulators.eventstream import (
    PADDING_ALPHABET,
    FrameError,
    decode_frames,
    encode_message,
    event_frame,
    exception_frame,
)
from devtools.emulators.scenario import inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.polling import wait_for

MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"
JAPANESE = "こんにちは、世界！絵文字も 🚀🎉👩‍👩‍👧 ちゃんと届く。"
ROOT = Path(__file__).resolve().parents[3]

Event = dict[str, Any]


# --- fixtures and helpers ------------------------------------------------------------


@pytest.fixture(scope="module")
def app() -> BedrockEmulator:
    return create_app()


@pytest.fixture(scope="module")
def server(app: BedrockEmulator) -> Iterator[ThreadedServer]:
    with ThreadedServer(app) as running:
        yield running


@pytest.fixture(scope="module")
def tls_server(app: BedrockEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The same app behind TLS, for boto3's Bearer auth, which refuses plain HTTP."""
    cert, key = _self_signed_certificate(tmp_path_factory.mktemp("tls"))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ssl_certfile=cert, ssl_keyfile=key
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, seconds=20)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"https://127.0.0.1:{port}", cert
    server.should_exit = True
    thread.join(timeout=10)


def _self_signed_certificate(directory: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


@pytest.fixture(autouse=True)
def clean(app: BedrockEmulator) -> None:
    app.recorder.clear()
    app.book.clear()


def make_client(url: str, **config: Any) -> BaseClient:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}, read_timeout=10, connect_timeout=5, **config),
    )


@pytest.fixture()
def client(server: ThreadedServer) -> Iterator[BaseClient]:
    made = make_client(server.url)
    yield made
    made.close()


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


# --- the frame encoder, checked against botocore's own decoder -----------------------


def test_encoded_frames_decode_with_botocore_even_fed_one_byte_at_a_time() -> None:
    frames = [
        event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": JAPANESE}}),
        encode_message({"flag": True, "off": False, "count": -7, "blob": b"\x00\xff", "name": "値"}, b"{}"),
        exception_frame("throttlingException", "slow down"),
    ]
    buffer = EventStreamBuffer()
    messages = []
    for byte in b"".join(frames):
        buffer.add_data(bytes([byte]))
        messages.extend(buffer)
    assert [m.headers.get(":message-type") for m in messages] == ["event", None, "exception"]
    assert json.loads(messages[0].payload)["delta"]["text"] == JAPANESE
    assert messages[1].headers == {"flag": True, "off": False, "count": -7, "blob": b"\x00\xff", "name": "値"}
    assert messages[2].headers[":exception-type"] == "throttlingException"
    assert json.loads(messages[2].payload) == {"message": "slow down"}


def test_corrupted_frame_fails_both_crc_checks() -> None:
    frame = bytearray(event_frame("messageStart", {"role": "assistant"}))
    frame[-6] ^= 0x01  # a payload byte: only the message CRC can notice
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(frame))
    with pytest.raises(ChecksumMismatch):
        list(buffer)
    with pytest.raises(FrameError, match="message CRC"):
        list(decode_frames(bytes(frame)))


def test_own_decoder_agrees_with_botocore() -> None:
    data = b"".join(event_frame("contentBlockStop", {"contentBlockIndex": i}) for i in range(3))
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    theirs = [(m.headers, m.payload) for m in buffer]
    ours = [(f.headers, f.payload) for f in decode_frames(data)]
    assert ours == theirs and len(ours) == 3


def test_padding_is_an_alphabet_prefix_of_varying_length() -> None:
    pads = [next(decode_frames(event_frame("messageStart", {"role": "assistant"}))).json()["p"] for _ in range(60)]
    assert all(PADDING_ALPHABET.startswith(p) and p for p in pads)
    assert len({len(p) for p in pads}) > 5


# --- streaming through boto3 ---------------------------------------------------------


def test_text_stream_reassembles_byte_exactly_in_wire_order(client: BaseClient, app: BedrockEmulator) -> None:
    events = stream(client, text=JAPANESE, chunks=9)
    assert text_of(events) == JAPANESE
    assert kinds(events) == ["messageStart"] + ["contentBlockDelta"] * 9 + [
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert events[0]["messageStart"] == {"role": "assistant"}
    assert events[-3]["contentBlockStop"] == {"contentBlockIndex": 0}
    assert events[-2]["messageStop"] == {"stopReason": "end_turn"}
    record = app.recorder.records[-1].wait_finished()
    assert (record.auth, record.key, record.outcome, record.frames_sent) == ("sigv4", MODEL, "completed", 13)


@pytest.mark.parametrize("byte_split", [1, 3, 7])
def test_frames_cut_at_arbitrary_bytes_still_reassemble(client: BaseClient, byte_split: int) -> None:
    events = stream(client, text=JAPANESE, chunks=5, byte_split=byte_split)
    assert text_of(events) == JAPANESE
    assert kinds(events)[-1] == "metadata"


def test_raw_wire_format(server: ThreadedServer) -> None:
    body = {"messages": user(inline_prompt(text="hi", chunks=2))}
    response = httpx.post(
        f"{server.url}/model/{MODEL.replace(':', '%3A')}/converse-stream",
        json=body,
        headers={"Authorization": "Bearer ABSKexample"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.amazon.eventstream"
    assert response.headers["x-amzn-requestid"]
    frames = list(decode_frames(response.content))
    assert [f.headers[":event-type"] for f in frames] == [
        "messageStart", "contentBlockDelta", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata",
    ]  # fmt: skip
    for frame in frames:
        assert set(frame.headers) == {":event-type", ":content-type", ":message-type"}
        assert (frame.headers[":content-type"], frame.headers[":message-type"]) == ("application/json", "event")
        assert PADDING_ALPHABET.startswith(frame.json()["p"])
    assert frames[1].json()["delta"] == {"text": "h"}


def test_tool_use_blocks_with_scripted_and_generated_ids(client: BaseClient) -> None:
    calls = [
        {"name": "get_weather", "arguments": {"city": "東京", "unit": "c"}, "id": "tooluse_fixed", "pieces": 4},
        {"name": "lookup", "arguments": '{"q":"x"}'},
    ]
    events = stream(client, text="Checking.", tool_calls=calls)
    starts = [e["contentBlockStart"] for e in events if "contentBlockStart" in e]
    assert [s["contentBlockIndex"] for s in starts] == [1, 2]
    assert starts[0]["start"]["toolUse"] == {"toolUseId": "tooluse_fixed", "name": "get_weather"}
    generated = starts[1]["start"]["toolUse"]["toolUseId"]
    assert generated.startswith("tooluse_") and len(generated) == 30
    fragments = [e["contentBlockDelta"] for e in events if "toolUse" in e.get("contentBlockDelta", {}).get("delta", {})]
    first = [f["delta"]["toolUse"]["input"] for f in fragments if f["contentBlockIndex"] == 1]
    assert len(first) == 4 and json.loads("".join(first)) == {"city": "東京", "unit": "c"}
    assert "".join(f["delta"]["toolUse"]["input"] for f in fragments if f["contentBlockIndex"] == 2) == '{"q":"x"}'
    assert text_of(events, 0) == "Checking."
    assert {"contentBlockStop": {"contentBlockIndex": 2}} in events
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"


def test_reasoning_deltas_then_signature_then_text(client: BaseClient) -> None:
    events = stream(client, reasoning="Let me think… 考える", text="Answer.")
    reasoning = [
        e["contentBlockDelta"] for e in events if "reasoningContent" in e.get("contentBlockDelta", {}).get("delta", {})
    ]
    assert all(r["contentBlockIndex"] == 0 for r in reasoning)
    texts = [r["delta"]["reasoningContent"].get("text", "") for r in reasoning]
    assert "".join(texts) == "Let me think… 考える"
    assert set(reasoning[-1]["delta"]["reasoningContent"]) == {"signature"}
    assert events[len(reasoning) + 1] == {"contentBlockStop": {"contentBlockIndex": 0}}
    assert text_of(events, 1) == "Answer."


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ({}, "end_turn"),
        ({"finish_reason": "max_tokens"}, "max_tokens"),
        ({"finish_reason": "guardrail_intervened"}, "guardrail_intervened"),
        ({"content_filter": True}, "content_filtered"),
    ],
)
def test_message_stop_reasons(client: BaseClient, scenario: dict[str, Any], reason: str) -> None:
    events = stream(client, text="x", **scenario)
    assert events[-2] == {"messageStop": {"stopReason": reason}}


def test_metadata_usage_and_metrics(client: BaseClient) -> None:
    metadata = stream(client, text="abc", prompt_tokens=11, completion_tokens=7, delay_ms=5)[-1]["metadata"]
    assert metadata["usage"] == {"inputTokens": 11, "outputTokens": 7, "totalTokens": 18}
    assert isinstance(metadata["metrics"]["latencyMs"], int) and metadata["metrics"]["latencyMs"] >= 5


# --- faults --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, "ThrottlingException"),
        (503, "ServiceUnavailableException"),
        (500, "InternalServerException"),
        (400, "ValidationException"),
        (403, "AccessDeniedException"),
    ],
)
def test_http_error_statuses(client: BaseClient, app: BedrockEmulator, status: int, code: str) -> None:
    with pytest.raises(ClientError) as raised:
        client.converse_stream(modelId=MODEL, messages=user(inline_prompt(status=status)))
    error = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith(
        f"{code}:http://internal.amazon.com/"
    )
    assert (app.recorder.records[-1].status, app.recorder.records[-1].outcome) == (status, "error_status")


def test_throttling_message_and_custom_message(client: BaseClient) -> None:
    with pytest.raises(ClientError) as raised:
        client.converse_stream(modelId=MODEL, messages=user(inline_prompt(status=429)))
    assert raised.value.response["Error"]["Message"] == "Too many requests, please wait before trying again."
    with pytest.raises(ClientError) as raised:
        client.converse_stream(modelId=MODEL, messages=user(inline_prompt(status=400, error_message="too long")))
    assert raised.value.response["Error"]["Message"] == "too long"


@pytest.mark.parametrize(
    ("error_code", "exception_type"),
    [
        (None, "modelStreamErrorException"),
        ("throttlingException", "throttlingException"),
        ("InternalServerException", "internalServerException"),
        ("serviceUnavailable", "serviceUnavailableException"),
        ("validationException", "validationException"),
    ],
)
def test_exception_frame_mid_stream(client: BaseClient, error_code: str | None, exception_type: str) -> None:
    scenario = {"text": "abcdef", "chunks": 6, "error_after": 3, "error_message": "boom"}
    if error_code:
        scenario["error_code"] = error_code
    seen, error = read_until_error(client.converse_stream(modelId=MODEL, messages=user(inline_prompt(**scenario))))
    assert isinstance(error, EventStreamError)
    assert error.response["Error"] == {"Code": exception_type, "Message": "boom"}
    assert text_of(seen) == "ab"


def test_close_after_breaks_the_read(client: BaseClient, app: BedrockEmulator) -> None:
    prompt = inline_prompt(text="abcdef", chunks=6, close_after=2)
    seen, error = read_until_error(client.converse_stream(modelId=MODEL, messages=user(prompt)))
    assert isinstance(error, urllib3.exceptions.ProtocolError)
    assert kinds(seen) == ["messageStart", "contentBlockDelta"]
    assert app.recorder.records[-1].outcome == "closed"


def test_closing_a_stalled_stream_is_recorded_as_disconnect(client: BaseClient, app: BedrockEmulator) -> None:
    response = client.converse_stream(
        modelId=MODEL, messages=user(inline_prompt(text="abcdef", chunks=6, stall_after=3))
    )
    events = iter(response["stream"])
    assert kinds([next(events) for _ in range(3)]) == ["messageStart", "contentBlockDelta", "contentBlockDelta"]
    record = app.recorder.records[-1]
    assert not record.client_disconnected
    response["stream"].close()
    assert wait_for(lambda: record.client_disconnected)
    assert record.disconnected_at is not None and record.frames_sent == 3


# --- auth, routing, validation -------------------------------------------------------


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


# --- the CLI -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_cli_serves_the_default_scenario() -> None:
    port = _free_port()
    command = [sys.executable, "-m", "devtools.emulators.bedrock", "--port", str(port), "--scenario", '{"text": "cli"}']
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: _accepts(port) or process.poll() is not None, seconds=20)
        assert process.poll() is None, f"the CLI exited with {process.returncode}"
        cli_client = make_client(f"http://127.0.0.1:{port}")
        assert text_of(read_all(cli_client.converse_stream(modelId=MODEL, messages=user("hi")))) == "cli"
        cli_client.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
