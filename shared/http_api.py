"""The HTTP face of the relay: bodies in, extension response objects out.

Every route in ``function_app.py`` is one call into this module. Responses are
built from the ``azurefunctions.extensions.http.fastapi`` types, the only ones
the Python worker accepts once the streaming extension is loaded.
"""

from __future__ import annotations

import logging

from azurefunctions.extensions.http.fastapi import JSONResponse, Request, Response, StreamingResponse

from .admission import Admission
from .chat_request import ChatRequest, parse_chat_request
from .dialects.openai_chat import ChunkEncoder, collect_completion, encode_stream, error_body
from .dialects.sse import SSE_HEADERS, SSE_MEDIA_TYPE
from .errors import InvalidRequest, PayloadTooLarge, RelayError
from .relay import OpenedStream, Relay
from .stream_guard import guarded_events

logger = logging.getLogger(__name__)

MINT_BODY_LIMIT = 4096


async def chat_completions(relay: Relay, request: Request) -> Response:
    """``POST /v1/chat/completions``: stream or collect one chat completion."""
    try:
        identity = await relay.access.authenticate(request.headers)
        body = await read_body(request, relay.config.limits.max_body_bytes)
        admission = await relay.access.admit(identity, parse_chat_request(body), len(body))
        chat = admission.chat
        opened = await admission.attempt(relay.open(chat))
    except RelayError as exc:
        return error_response(exc)
    except Exception:
        logger.exception("unexpected failure while opening a chat completion")
        return error_response(RelayError("the relay failed unexpectedly; please retry", code="internal_error"))
    if chat.stream:
        return _stream_response(chat, opened, admission)
    return await _completion_response(chat, opened, admission)


def _stream_response(chat: ChatRequest, opened: OpenedStream, admission: Admission) -> Response:
    events = admission.meter(guarded_events(opened.stream, opened.backend))
    encoder = ChunkEncoder(model=chat.model, include_usage=chat.include_usage)
    return StreamingResponse(
        encode_stream(events, encoder),
        media_type=SSE_MEDIA_TYPE,
        headers={**SSE_HEADERS, **relay_headers(opened)},
    )


async def _completion_response(chat: ChatRequest, opened: OpenedStream, admission: Admission) -> Response:
    events = admission.meter(guarded_events(opened.stream, opened.backend))
    try:
        document = await collect_completion(events, chat.model)
    except RelayError as exc:
        return error_response(exc, relay_headers(opened))
    return JSONResponse(document, headers=relay_headers(opened))


async def list_models(relay: Relay, request: Request) -> Response:
    """``GET /v1/models``: the public aliases this caller may use, in OpenAI's list format."""
    try:
        identity = await relay.access.authenticate(request.headers)
    except RelayError as exc:
        return error_response(exc)
    aliases = relay.access.visible_models(identity, relay.router.aliases())
    data = [{"id": alias, "object": "model", "created": 0, "owned_by": "relay"} for alias in aliases]
    return JSONResponse({"object": "list", "data": data})


async def mint_browser_token(relay: Relay, request: Request) -> Response:
    """``POST /auth/browser-token``: a short-lived token for a web page, granting at most the caller's rights."""
    try:
        identity = await relay.access.authenticate(request.headers)
        body = await read_body(request, MINT_BODY_LIMIT)
        document = relay.access.mint_browser_token(identity, body, relay.router.aliases())
    except RelayError as exc:
        return error_response(exc)
    return JSONResponse(document, headers={"Cache-Control": "no-store"})


def preflight(relay: Relay, request: Request) -> Response:
    """``OPTIONS`` on any route: the CORS preflight, answered from ``cors``."""
    return relay.access.cors.preflight(request.headers)


def with_cors(relay: Relay, request: Request, response: Response) -> Response:
    """``response`` with the CORS headers an allowed origin's page needs to read it."""
    return relay.access.cors.decorate(request.headers, response)


def health(relay: Relay) -> Response:
    """``GET /health``: liveness and per-backend state."""
    return JSONResponse(relay.health(), headers={"Cache-Control": "no-store"})


def relay_headers(opened: OpenedStream) -> dict[str, str]:
    """Which backend answered and after how many tries; names only."""
    return {"x-relay-backend": opened.backend, "x-relay-attempts": str(opened.attempts)}


def error_response(error: RelayError, headers: dict[str, str] | None = None) -> Response:
    """OpenAI-style error JSON with the error's status and Retry-After."""
    all_headers = dict(headers or {})
    if error.status == 401:
        all_headers["WWW-Authenticate"] = "Bearer"
    if error.retry_after is not None:
        all_headers["Retry-After"] = str(max(1, round(error.retry_after)))
    return JSONResponse(error_body(error), status_code=error.status, headers=all_headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InvalidRequest("Content-Length is not a number")
        if int(declared) > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"request body is larger than {limit} bytes")

