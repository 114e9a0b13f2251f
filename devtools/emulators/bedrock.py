"""A wire-faithful emulator of AWS Bedrock Runtime ``Converse`` and ``ConverseStream``.

The relay talks to Bedrock through boto3, so the emulator has to satisfy the
real SDK rather than a hand-written client: percent-encoded model ids in the
path, SigV4 or Bearer ``Authorization``, errors typed by ``x-amzn-ErrorType``,
and a body of binary event stream messages (:mod:`.eventstream`) in the order
Bedrock sends them::

    messageStart
    [contentBlockDelta{reasoningContent.text}..., {reasoningContent.signature}, contentBlockStop]
    [contentBlockDelta{reasoningContent.redactedContent}, contentBlockStop]
    [contentBlockDelta{text}..., contentBlockStop]
    [contentBlockStart{toolUse}, contentBlockDelta{toolUse.input}..., contentBlockStop]...
    messageStop{stopReason}
    metadata{usage, metrics}

Text blocks get no ``contentBlockStart`` (Bedrock sends none for text), block
indexes count up across reasoning, text and tool blocks, and every event
carries the random ``p`` padding real frames carry.

Building those events from a scenario lives in :mod:`.bedrock_events`; this
module checks requests, chooses the scenario, frames and paces the response.

Run it alone with ``python -m devtools.emulators.bedrock --port 8102``.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .asgi import ADMIN_PREFIX, Receive, Scope, Send, handle_admin, header, play, rate_limit_headers, read_body
from .asgi import send_json as _send_json
from .aws_sts import AwsSts
from .bedrock_cache import cache_point_problem, with_prompt_cache
from .bedrock_events import converse_output, stream_events, tool_use_id
from .bedrock_thinking import remember, thinking_problem
from .cli import emulator_parser, run_emulator
from .eventstream import encode_message, event_frame, exception_frame
from .recorder import Recorder, RequestRecord
from .scenario import INLINE_PREFIX, Scenario, ScenarioBook, ScenarioError
from .structured import converse_wanted, shaped

EVENTSTREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"
OPERATIONS = ("converse-stream", "converse")
BEDROCK_FAULT = "http://internal.amazon.com/coral/com.amazon.bedrock/"
AUTH_FAULT = "http://internal.amazon.com/coral/com.amazon.coral.service/"

RETRY = "Try your request again."
THROTTLED = "Too many requests, please wait before trying again."
UNAVAILABLE = "Bedrock is unable to process your request."
INTERNAL = f"The system encountered an unexpected error during processing. {RETRY}"
INVALID = "The provided request is not valid."

# Scripted HTTP ``status`` -> (x-amzn-ErrorType, default message).
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("ValidationException", INVALID),
    403: ("AccessDeniedException", "You don't have access to the model with the specified model ID."),
    404: ("ResourceNotFoundException", "The specified resource ARN was not found. Check the ARN and try again."),
    408: ("ModelTimeoutException", f"Model has timed out in processing the request. {RETRY}"),
    424: ("ModelErrorException", "The model encountered an error while processing the request."),
    429: ("ThrottlingException", THROTTLED),
    500: ("InternalServerException", INTERNAL),
    503: ("ServiceUnavailableException", UNAVAILABLE),
}

# The in-stream exceptions the ConverseStreamOutput union models, with default messages.
STREAM_EXCEPTIONS: dict[str, str] = {
    "modelStreamErrorException": f"The model stream encountered an error. {RETRY}",
    "throttlingException": THROTTLED,
    "internalServerException": INTERNAL,
    "serviceUnavailableException": UNAVAILABLE,
    "validationException": INVALID,
}

START_WITH_USER = (
    "A conversation must start with a user message. Try again with a conversation that starts with a user message."
)
ALTERNATE_ROLES = (
    "A conversation must alternate between user and assistant roles. "
    "Make sure the conversation alternates between user and assistant roles and try again."
)

_SIGV4_PARAM = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]*)")


@dataclass(frozen=True)
class AwsError:
    """An error response shaped the way AWS's front door or Bedrock itself sends it."""

    status: int
    code: str
    message: str
    fault: str = BEDROCK_FAULT
    message_key: str = "message"


AUTH_MISSING = AwsError(403, "AccessDeniedException", "Authorization header is missing", AUTH_FAULT, "Message")


# --- request checks ------------------------------------------------------------------


def raw_path(scope: Scope) -> str:
    """The path exactly as sent, percent-escapes intact, without the query string."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    return raw.decode("latin-1").split("?", 1)[0]


def parse_route(scope: Scope) -> tuple[str, str] | None:
    """(model id, operation) for ``POST /model/{modelId}/{operation}``, else None.

    Splits the raw path: the decoded one has an ARN's ``%2F`` turned into a
    slash, which would make the model id impossible to find.
    """
    parts = raw_path(scope).split("/")
    if scope["method"] != "POST" or len(parts) != 4 or parts[0] or parts[1] != "model" or not parts[2]:
        return None
    if parts[3] not in OPERATIONS:
        return None
    return unquote(parts[2], encoding="utf-8", errors="replace"), parts[3]


def check_auth(scope: Scope) -> tuple[str, AwsError | None]:
    """The auth kind ("sigv4", "bearer", "none", "invalid") and the rejection, if any.

    Only the structure is checked, not the signature math: the point is to
    catch a relay that forgets to sign, signs for the wrong service or drops
    the Bedrock API key. The secret itself is never kept.
    """
    value = (header(scope, "authorization") or "").strip()
    if not value:
        return "none", AUTH_MISSING
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        return ("bearer", None) if rest.strip() else ("invalid", AUTH_MISSING)
    if scheme != "AWS4-HMAC-SHA256":
        return "invalid", _incomplete_signature(["Credential", "Signature", "SignedHeaders"], scope)
    return _check_sigv4(rest, scope)


def _check_sigv4(params_text: str, scope: Scope) -> tuple[str, AwsError | None]:
    params = dict(_SIGV4_PARAM.findall(params_text))
    missing = [name for name in ("Credential", "Signature", "SignedHeaders") if not params.get(name)]
    if missing or not (header(scope, "x-amz-date") or header(scope, "date")):
        return "invalid", _incomplete_signature(missing, scope)
    credential = params["Credential"].split("/")
    if len(credential) != 5 or credential[4] != "aws4_request" or not re.fullmatch(r"\d{8}", credential[1]):
        message = f"Credential should be scoped to a valid region. Credential={params['Credential']}"
        return "invalid", AwsError(403, "InvalidSignatureException", message)
    if credential[3] != "bedrock":
        message = "Credential should be scoped to correct service: 'bedrock'. "
        return "invalid", AwsError(403, "InvalidSignatureException", message)
    if not re.fullmatch(r"[0-9a-f]{64}", params["Signature"]):
        message = "The request signature we calculated does not match the signature you provided."
        return "invalid", AwsError(403, "InvalidSignatureException", message)
    return "sigv4", None


def federated_rejection(scope: Scope, sts: AwsSts) -> AwsError | None:
    """Keyless mode: the SigV4 access key id and session token must be live ones ``sts`` issued."""
    params = dict(_SIGV4_PARAM.findall(header(scope, "authorization") or ""))
    access_key_id = params.get("Credential", "").split("/")[0]
    problem = sts.credentials_problem(access_key_id, header(scope, "x-amz-security-token"))
    return None if problem is None else AwsError(403, *problem, AUTH_FAULT, "Message")


def _incomplete_signature(missing: Sequence[str], scope: Scope) -> AwsError:
    reasons = [f"Authorization header requires '{name}' parameter." for name in missing]
    if not (header(scope, "x-amz-date") or header(scope, "date")):
        reasons.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    return AwsError(403, "IncompleteSignatureException", " ".join(reasons))


def validate_request(body: Any) -> str | None:
    """Why Bedrock would answer this Converse body with a ValidationException, or None."""
    if not isinstance(body, dict):
        return "Malformed input request, please reformat your input and try again."
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return START_WITH_USER
    previous = None
    for position, message in enumerate(messages):
        problem = _message_problem(message, position)
        if problem:
            return problem
        if previous is None and message["role"] != "user":
            return START_WITH_USER
        if message["role"] == previous:
            return ALTERNATE_ROLES
        previous = message["role"]
    return cache_point_problem(body)


def _message_problem(message: Any, position: int) -> str | None:
    where = f"messages.{position + 1}.member"
    constraint = "1 validation error detected: Value {} at '{}' failed to satisfy constraint: Member must {}"
    if not isinstance(message, dict):
        return constraint.format("null", where, "not be null")
    if message.get("role") not in ("user", "assistant"):
        role = f"'{message.get('role')}'"
        return constraint.format(role, f"{where}.role", "satisfy enum value set: [user, assistant]")
    if not isinstance(message.get("content"), list):
        return constraint.format("null", f"{where}.content", "not be null")
    if not message["content"]:
        return (
            f"The content field in the Message object at messages.{position} is empty. "
            "Add a ContentBlock object to the content field and try again."
        )
    return None


def _texts(blocks: Sequence[Any]) -> list[str]:
    return [block["text"] for block in blocks if isinstance(block, dict) and isinstance(block.get("text"), str)]


def scenario_prompt(body: dict[str, Any]) -> str | None:
    """Where an inline scenario is read from: the last user message's text blocks."""
    users = [message for message in body["messages"] if message["role"] == "user"]
    texts = _texts(users[-1]["content"]) if users else []
    inline = [text for text in texts if text.lstrip().startswith(INLINE_PREFIX)]
    return (inline or ["\n".join(texts)])[0] or None


def prompt_chars(body: dict[str, Any]) -> int:
    """Characters of text in messages and system prompt, for the token estimate."""
    blocks = [block for message in body["messages"] for block in message["content"]]
    system = body.get("system")
    return sum(map(len, _texts(blocks + (system if isinstance(system, list) else []))))


def stream_exception_type(error_code: str | None) -> str:
    """The ``:exception-type`` for ``error_code``: any casing, with or without "Exception"; unknown ones verbatim."""
    if not error_code:
        return "modelStreamErrorException"
    wanted = error_code.lower().removesuffix("exception")
    matches = [name for name in STREAM_EXCEPTIONS if name.lower().removesuffix("exception") == wanted]
    return matches[0] if matches else error_code


def http_error(scenario: Scenario) -> AwsError:
    """The error response a scripted non-200 ``status`` stands for; ``error_code`` overrides the type."""
    code, message = HTTP_ERRORS.get(scenario.status, ("InternalServerException", INTERNAL))
    if scenario.error_code:
        code = scenario.error_code[:1].upper() + scenario.error_code[1:]
    return AwsError(scenario.status, code, scenario.error_message or message)


# --- the app -------------------------------------------------------------------------


class BedrockEmulator:
    """ASGI app: Bedrock Runtime's Converse routes plus the shared ``/_emulator`` admin API."""

    def __init__(self, default: Scenario | None = None, sts: AwsSts | None = None) -> None:
        """``sts`` set is keyless mode: only the temporary credentials it issued are accepted."""
        self.book = ScenarioBook(default=default or Scenario())
        self.sts = sts
        self.recorder = Recorder()
        self.url = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"].startswith(ADMIN_PREFIX):
            await handle_admin(scope, receive, send, self.book, self.recorder)
        elif (route := parse_route(scope)) is None:
            await send_error(send, AwsError(404, "UnknownOperationException", "Unknown operation"))
        else:
            await self._converse(scope, receive, send, *route)

    async def _converse(self, scope: Scope, receive: Receive, send: Send, model_id: str, operation: str) -> None:
        """Auth, then validation, then the scenario: the order the real service checks in."""
        body = _parse_json(await read_body(receive))
        auth, rejection = check_auth(scope)
        if rejection is None and self.sts is not None:
            rejection = federated_rejection(scope, self.sts)
        record = self.recorder.start(raw_path(scope), model_id, auth, body, header(scope, "traceparent"))
        if rejection is None and (problem := validate_request(body) or thinking_problem(body, self.book.signatures)):
            rejection = AwsError(400, "ValidationException", problem)
        if rejection is not None:
            await _reject(send, record, rejection, "rejected")
            return
        try:
            scenario = self.book.choose(model_id, scenario_prompt(body))
        except ScenarioError as exc:
            await _reject(send, record, AwsError(400, "ValidationException", str(exc)), "rejected")
            return
        wanted = converse_wanted(body)
        if wanted.problem is not None:
            await _reject(send, record, AwsError(400, "ValidationException", wanted.problem), "rejected")
            return
        scenario = with_prompt_cache(shaped(scenario, wanted), body, [r.body for r in self.recorder.records[:-1]])
        if scenario.status != 200:
            await _reject(send, record, http_error(scenario), "error_status", rate_limit_headers(scenario))
            return
        ids = [tool_use_id(call) for call in scenario.tool_calls]
        remember(self.book.signatures, scenario, ids)
        if operation == "converse-stream":
            await _stream(send, receive, record, scenario, prompt_chars(body), ids)
        else:
            await _answer_converse(send, record, scenario, prompt_chars(body), ids)


async def _stream(
    send: Send, receive: Receive, record: RequestRecord, scenario: Scenario, chars: int, ids: list[str]
) -> None:
    frames = [event_frame(kind, payload) for kind, payload in stream_events(scenario, chars, ids)]
    exception_type = stream_exception_type(scenario.error_code)
    message = scenario.error_message or STREAM_EXCEPTIONS.get(exception_type, INTERNAL)
    await play(
        send,
        receive,
        scenario=scenario,
        record=record,
        frames=frames,
        error_frames=[exception_frame(exception_type, message)],
        malformed_frames=[malformed_event_frame()],
        content_type=EVENTSTREAM_CONTENT_TYPE,
        headers=[("x-amzn-requestid", str(uuid.uuid4()))],
    )


async def _answer_converse(send: Send, record: RequestRecord, scenario: Scenario, chars: int, ids: list[str]) -> None:
    """Non-streaming Converse: wait as long as generating would take, then answer at once.

    Only ``status`` and pacing apply here; the stream faults (``error_after``,
    ``close_after``, ``stall_after``, ``byte_split``) are ConverseStream-only.
    """
    pause_ms = scenario.first_delay_ms + scenario.delay_ms * len(scenario.text_pieces())
    if pause_ms:
        await asyncio.sleep(pause_ms / 1000)
    headers = [("x-amzn-requestid", str(uuid.uuid4()))]
    await _send_json(send, 200, converse_output(scenario, chars, ids), headers=headers)
    record.finish("completed")


async def _reject(
    send: Send, record: RequestRecord, error: AwsError, outcome: str, extra: Sequence[tuple[str, str]] = ()
) -> None:
    record.status = error.status
    record.finish(outcome)
    await send_error(send, error, extra)


async def send_error(send: Send, error: AwsError, extra: Sequence[tuple[str, str]] = ()) -> None:
    """An AWS REST-JSON error: typed by ``x-amzn-ErrorType``, message in the JSON body."""
    headers = [("x-amzn-requestid", str(uuid.uuid4())), ("x-amzn-errortype", f"{error.code}:{error.fault}"), *extra]
    await _send_json(send, error.status, {error.message_key: error.message}, headers=headers)


def malformed_event_frame() -> bytes:
    """A correctly framed ``contentBlockDelta`` whose JSON payload is cut short.

    The CRCs hold, so the fault reaches whatever parses the payload, not the framing.
    """
    headers = {":event-type": "contentBlockDelta", ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, b'{"contentBlockIndex":0,"delta":{"text":')


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def create_app(default: Scenario | None = None) -> BedrockEmulator:
    """A fresh emulator with its own scenario book and request log."""
    return BedrockEmulator(default)


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: serve the emulator on 127.0.0.1 until interrupted."""
    parser = emulator_parser("AWS Bedrock Runtime Converse/ConverseStream emulator", "bedrock")
    run_emulator(parser, lambda _args, default: create_app(default), argv)


if __name__ == "__main__":
    main()
