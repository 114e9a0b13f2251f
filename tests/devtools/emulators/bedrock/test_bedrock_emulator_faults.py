"""Faults the Bedrock emulator is scripted to produce: error statuses, exception frames, drops and stalls.

botocore raises its own exceptions for each, so the relay's error handling is
tested against exactly what a real Bedrock failure looks like to boto3.
"""

from __future__ import annotations

import json

import pytest
import urllib3
from botocore.client import BaseClient
from botocore.exceptions import ClientError, ConnectionClosedError, EventStreamError, ReadTimeoutError

from devtools.emulators.bedrock import BedrockEmulator, malformed_event_frame
from devtools.emulators.eventstream import decode_frames
from devtools.emulators.scenario import inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.bedrock.bedrock_emulator_calls import (
    MODEL,
    kinds,
    make_client,
    read_all,
    read_until_error,
    stream,
    text_of,
    user,
)
from tests.polling import wait_for


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


def test_before_headers_close_is_a_connection_dropped_unanswered(client: BaseClient, app: BedrockEmulator) -> None:
    with pytest.raises(ConnectionClosedError):
        client.converse_stream(modelId=MODEL, messages=user(inline_prompt(before_headers="close")))
    assert app.recorder.records[-1].wait_finished().outcome == "closed"


def test_before_headers_stall_never_answers(server: ThreadedServer, app: BedrockEmulator) -> None:
    impatient = make_client(server.url, read_timeout=0.5)
    with pytest.raises(ReadTimeoutError):
        impatient.converse_stream(modelId=MODEL, messages=user(inline_prompt(before_headers="stall")))
    assert app.recorder.records[-1].wait_finished().outcome == "stalled"


def test_malformed_after_sends_a_well_framed_event_whose_json_is_cut_short(client: BaseClient) -> None:
    prompt = inline_prompt(text="abcdef", chunks=6, malformed_after=2)
    seen = read_all(client.converse_stream(modelId=MODEL, messages=user(prompt)))
    # botocore reads an unparsable payload as an empty event; the relay's own decoder must cope too.
    assert seen[2] == {"contentBlockDelta": {}}
    assert text_of([event for event in seen if event != seen[2]]) == "abcdef" and kinds(seen)[-1] == "metadata"
    frame = next(decode_frames(malformed_event_frame()))
    assert (frame.headers[":event-type"], frame.headers[":message-type"]) == ("contentBlockDelta", "event")
    with pytest.raises(ValueError):
        json.loads(frame.payload)


def test_malformed_usage_reports_token_counts_that_are_not_numbers(client: BaseClient) -> None:
    events = stream(client, text="ab", malformed_usage=True)
    assert events[-1]["metadata"]["usage"] == {"inputTokens": "x"}, "botocore drops the nulls"
