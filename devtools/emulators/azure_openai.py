"""A local Azure OpenAI chat-completions endpoint that is faithful on the wire.

The relay must cope with what the real service actually sends, not with what
a generic OpenAI mock sends: the content-filter frame with empty ``choices``
that opens every stream, alphabetical keys, ``usage`` only on request, Azure's
own error bodies and throttling headers, and streams that die halfway. This
emulator reproduces those, scripted per request by the scenario language of
:mod:`devtools.emulators.scenario`.

Routes:

* ``POST /openai/deployments/{deployment}/chat/completions?api-version=...``;
  the scenario key is the deployment;
* ``POST /openai/v1/chat/completions`` (the version-less v1 API); the scenario
  key is the body's ``model``; an ``api-version`` query is tolerated, not needed;
* ``GET /_identity/token``, App Service's managed-identity endpoint (see
  :mod:`devtools.emulators.azure_identity`), for keyless Entra ID;
* ``/_emulator/*``, the shared admin API.

The v1 API takes the key as ``api-key`` or as a bearer token, as Azure does: a
bearer token that is not JWT-shaped is checked as a key there. Deviations from
the real service, on purpose: any JWT-shaped bearer token (any bearer token on
the dated path) is accepted, as Entra ID tokens cannot be checked offline;
records name tokens from the emulated identity endpoint ``entra``. The reported
model is always :data:`~devtools.emulators.azure_openai_frames.MODEL`, and
``scenario.reasoning`` is counted in usage but never streamed, as Azure does
for reasoning models.

Run standalone with ``python -m devtools.emulators.azure_openai --port 8101``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import re
import uuid
from collections.abc import Sequence
from typing import Any

from . import azure_openai_frames as frames
from .asgi import (
    ADMIN_PREFIX,
    AbruptClose,
    Receive,
    Scope,
    Send,
    handle_admin,
    header,
    play,
    query,
    rate_limit_headers,
    read_json,
    send_bytes,
)
from .azure_identity import IDENTITY_PATH, ManagedIdentity, looks_like_jwt
from .cli import emulator_parser, run_emulator
from .recorder import Recorder, RequestRecord
from .scenario import Scenario, ScenarioBook, ScenarioError
from .structured import openai_wanted, shaped

DEPLOYMENT_ROUTE = re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/chat/completions/?$")
V1_ROUTE = re.compile(r"^/openai/v1/chat/completions/?$")
V1_API_VERSION = "v1"
STREAM_CONTENT_TYPE = "text/event-stream; charset=utf-8"
DEFAULT_RETRY_AFTER = 1

Headers = list[tuple[str, str]]


class AzureOpenAIEmulator:
    """The emulator as a raw ASGI app; ``book`` scripts it, ``recorder`` tells what it saw."""

    def __init__(self, default: Scenario | None = None, api_keys: set[str] | None = None) -> None:
        self.book = ScenarioBook(default=default or Scenario())
        self.recorder = Recorder()
        self.api_keys = set(api_keys) if api_keys is not None else None
        self.identity = ManagedIdentity()
        self.url = ""
        quiet_abrupt_close_logs()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch one connection; non-HTTP scopes (lifespan, websockets) are ignored."""
        if scope["type"] != "http":
            return
        if scope["path"].startswith(ADMIN_PREFIX):
            await handle_admin(scope, receive, send, self.book, self.recorder)
            return
        if scope["path"] == IDENTITY_PATH and scope["method"] == "GET":
            status, document = self.identity.answer(query(scope), header(scope, "x-identity-header"))
            await send_document(send, status, document, [])
            return
        route = _match_route(scope)
        if route is None:
            await send_document(send, 404, frames.azure_error("404", "Resource not found"), _gateway_headers(scope))
            return
        await self._chat(scope, receive, send, route)

    async def _chat(self, scope: Scope, receive: Receive, send: Send, route: tuple[str, str | None]) -> None:
        """Check the request like the gateway does, then answer as the scenario says."""
        kind, deployment = route
        body = await read_json(receive)
        key = deployment if deployment is not None else str(_field(body, "model") or "")
        auth = auth_kind(scope, self.identity)
        record = self.recorder.start(scope["path"], key, auth or "none", body, header(scope, "traceparent"))
        api_version = query(scope).get("api-version") or (V1_API_VERSION if kind == "v1" else None)
        problem = self._request_problem(scope, kind, auth, api_version, body)
        if problem is not None:
            status, document = problem
            await _reply_error(send, record, status, document, _gateway_headers(scope))
            return
        try:
            scenario = self.book.choose(key, last_user_text(body["messages"]))
        except (ScenarioError, TypeError) as exc:
            document = frames.model_error(f"Emulator scenario error: {exc}", "emulator_scenario_error")
            await _reply_error(send, record, 400, document, _gateway_headers(scope))
            return
        wanted = openai_wanted(body)
        if wanted.problem is not None:
            names = ("tool_choice", "parallel_tool_calls", "messages")
            param = next((name for name in names if name in wanted.problem), "response_format")
            document = frames.model_error(wanted.problem, None, param=param)
            await _reply_error(send, record, 400, document, _gateway_headers(scope))
            return
        scenario = shaped(scenario, wanted)
        await respond(scope, receive, send, record, scenario, body, api_version or V1_API_VERSION, key)

    def _request_problem(
        self, scope: Scope, kind: str, auth: str | None, api_version: str | None, body: Any
    ) -> tuple[int, dict[str, Any]] | None:
        """The gateway's verdict on a request before any model runs, or None when it passes."""
        if auth is None or not self._key_accepted(scope, kind, auth):
            return 401, frames.azure_error("401", frames.ACCESS_DENIED)
        if api_version is None:
            return 404, frames.azure_error("404", "Resource not found")
        if not isinstance(body, dict):
            message = "We could not parse the JSON body of your request. The API expects a JSON payload."
            return 400, frames.model_error(message, None)
        if not isinstance(body.get("messages"), list):
            return 400, frames.model_error("'messages' is a required property", None)
        return None

    def _key_accepted(self, scope: Scope, kind: str, auth: str) -> bool:
        """Whether the key, if the request carries one, is known; v1 also takes a key as a bearer token."""
        if self.api_keys is None:
            return True
        if auth == "api-key":
            return header(scope, "api-key") in self.api_keys
        token = bearer_token(scope) or ""
        return kind != "v1" or auth == "entra" or looks_like_jwt(token) or token in self.api_keys


def create_app(default: Scenario | None = None) -> AzureOpenAIEmulator:
    """A fresh emulator, for ``ThreadedServer`` fixtures and the CLI."""
    return AzureOpenAIEmulator(default=default)


# --------------------------------------------------------------------------- request inspection


def _match_route(scope: Scope) -> tuple[str, str | None] | None:
    """``("deployments", name)`` or ``("v1", None)`` for chat completions, else None."""
    if scope["method"] != "POST":
        return None
    match = DEPLOYMENT_ROUTE.match(scope["path"])
    if match:
        return "deployments", match.group("deployment")
    if V1_ROUTE.match(scope["path"]):
        return "v1", None
    return None


def auth_kind(scope: Scope, identity: ManagedIdentity | None = None) -> str | None:
    """Which credential the request carries, never the credential itself.

    ``entra`` is a token ``identity`` issued; any other bearer token is ``bearer``.
    """
    if header(scope, "api-key"):
        return "api-key"
    token = bearer_token(scope)
    if token is None:
        return None
    return "entra" if identity is not None and identity.issued(token) else "bearer"


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None."""
    authorization = header(scope, "authorization") or ""
    token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
    return token or None


def _field(body: Any, name: str) -> Any:
    return body.get(name) if isinstance(body, dict) else None


def message_text(message: Any) -> str:
    """The text of one chat message, whether ``content`` is a string or a list of parts."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"]
        return "\n".join(part for part in parts if isinstance(part, str))
    return ""


def last_user_text(messages: Sequence[Any]) -> str | None:
    """The text of the last user message, where inline scenarios live."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message)
    return None


def prompt_chars(messages: Sequence[Any]) -> int:
    """Characters of prompt text, the basis of the emulated prompt token count."""
    return sum(len(message_text(message)) for message in messages)


def include_usage(body: dict[str, Any]) -> bool:
    """Whether the client asked for the trailing usage chunk."""
    options = body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


# --------------------------------------------------------------------------- responses


def _gateway_headers(scope: Scope) -> Headers:
    """Headers every Azure OpenAI response carries, errors included."""
    return [
        ("apim-request-id", str(uuid.uuid4())),
        ("x-request-id", str(uuid.uuid4())),
        ("x-ms-client-request-id", header(scope, "x-ms-client-request-id") or "Not-Set"),
        ("x-ms-region", "East US"),
        ("x-content-type-options", "nosniff"),
        ("strict-transport-security", "max-age=31536000; includeSubDomains; preload"),
    ]


def _model_headers(scope: Scope, scenario: Scenario, deployment: str) -> Headers:
    """Headers of a response that reached a model deployment."""
    return [
        *_gateway_headers(scope),
        ("azureml-model-session", "d128-20250315123456"),
        ("x-ms-rai-invoked", "true"),
        ("x-ms-deployment-name", deployment),
        *rate_limit_headers(scenario),
    ]


async def send_document(send: Send, status: int, document: Any, headers: Headers) -> None:
    """A complete JSON response with a ``content-length``, like every non-streamed Azure reply."""
    await send_bytes(send, status, frames.compact_json(document), headers=headers)


async def _reply_error(send: Send, record: RequestRecord, status: int, document: Any, headers: Headers) -> None:
    """Answer with an error document and close the record."""
    record.status = status
    record.finish("rejected")
    await send_document(send, status, document, headers)


def with_throttle_defaults(scenario: Scenario) -> Scenario:
    """A 429 scenario completed with the headers the service always sends when throttling."""
    retry_after = scenario.retry_after
    if retry_after is None:
        ms = scenario.retry_after_ms
        retry_after = math.ceil(ms / 1000) if ms is not None else DEFAULT_RETRY_AFTER
    retry_after_ms = scenario.retry_after_ms if scenario.retry_after_ms is not None else int(retry_after * 1000)
    remaining_tokens = scenario.ratelimit_remaining_tokens
    return dataclasses.replace(
        scenario,
        retry_after=retry_after,
        retry_after_ms=retry_after_ms,
        ratelimit_remaining_tokens=0 if remaining_tokens is None else remaining_tokens,
    )


async def respond(
    scope: Scope,
    receive: Receive,
    send: Send,
    record: RequestRecord,
    scenario: Scenario,
    body: dict[str, Any],
    api_version: str,
    deployment: str,
) -> None:
    """Answer an accepted request: a scripted error, a stream, or one JSON document.

    A non-streamed reply arrives only once the whole text is generated, so it
    waits ``first_delay_ms`` plus ``delay_ms`` per text piece; and as it cannot
    fail halfway through a stream, ``error_after`` becomes a 500 before any byte.
    """
    streaming = bool(body.get("stream"))
    if scenario.status != 200 or (not streaming and scenario.error_after is not None):
        await _scripted_error(scope, send, record, scenario, api_version)
        return
    reply = frames.plan_reply(scenario, prompt_chars(body["messages"]))
    headers = _model_headers(scope, scenario, deployment)
    if streaming:
        await play(
            send,
            receive,
            scenario=scenario,
            record=record,
            frames=frames.stream_frames(reply, include_usage(body)),
            error_frames=[frames.stream_error_frame(scenario)],
            content_type=STREAM_CONTENT_TYPE,
            headers=headers,
            malformed_frames=[frames.MALFORMED_FRAME],
        )
        return
    generation_ms = scenario.first_delay_ms + scenario.delay_ms * len(reply.pieces)
    faults = dataclasses.replace(scenario, first_delay_ms=generation_ms)
    await _send_completion(send, receive, record, faults, frames.completion_document(reply), headers)


async def _scripted_error(
    scope: Scope, send: Send, record: RequestRecord, scenario: Scenario, api_version: str
) -> None:
    status = scenario.status if scenario.status != 200 else 500
    scenario = dataclasses.replace(scenario, status=status)
    if status == 429 and scenario.throttle_headers:
        scenario = with_throttle_defaults(scenario)
    retry_after = math.ceil(scenario.retry_after or DEFAULT_RETRY_AFTER)
    document = frames.scripted_error(scenario, api_version, retry_after)
    record.status = status
    record.finish("error_status")
    await send_document(send, status, document, [*_gateway_headers(scope), *rate_limit_headers(scenario)])


async def _send_completion(
    send: Send, receive: Receive, record: RequestRecord, scenario: Scenario, document: Any, headers: Headers
) -> None:
    """Send a ``chat.completion`` document after ``first_delay_ms``, with the faults one body allows.

    Without faults the reply has a ``content-length`` like the real one. A
    scripted close, stall or byte split plays the body as a single frame, so
    ``close_after``/``stall_after`` of any value hit before the body is sent.
    """
    body = frames.compact_json(document)
    faultless = scenario.close_after is None and scenario.stall_after is None and scenario.before_headers is None
    if faultless and not scenario.byte_split:
        if scenario.first_delay_ms:
            await asyncio.sleep(scenario.first_delay_ms / 1000)
        await send_bytes(send, 200, body, headers=headers)
        record.frames_sent = 1
        record.finish("completed")
        return
    faults = dataclasses.replace(
        scenario,
        close_after=0 if scenario.close_after is not None else None,
        stall_after=0 if scenario.stall_after is not None else None,
    )
    await play(
        send, receive, scenario=faults, record=record, frames=[body], content_type="application/json", headers=headers
    )


# --------------------------------------------------------------------------- logging and CLI


class _AbruptCloseFilter(logging.Filter):
    """Drops uvicorn's traceback for a scripted connection drop, which is not a failure."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc_info = record.exc_info
        return not (exc_info and isinstance(exc_info[1], AbruptClose))


_ABRUPT_CLOSE_FILTER = _AbruptCloseFilter()


def quiet_abrupt_close_logs() -> None:
    """Keep scripted ``close_after`` drops out of uvicorn's error log (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if _ABRUPT_CLOSE_FILTER not in logger.filters:
        logger.addFilter(_ABRUPT_CLOSE_FILTER)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the emulator with uvicorn until interrupted."""
    parser = emulator_parser("Local Azure OpenAI chat-completions emulator.", "azure_openai")
    run_emulator(parser, lambda _args, default: create_app(default), argv)


if __name__ == "__main__":
    main()
