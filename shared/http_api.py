"""The HTTP face of the relay: bodies in, extension response objects out.

Every route in ``function_app.py`` is one call into this module, handed the
:class:`~shared.application.Application`. Responses are built from the
``azurefunctions.extensions.http.fastapi`` types, the only ones the Python
worker accepts once the streaming extension is loaded. Every entry point
handed a configuration the app refused answers the 503 instead
(:mod:`.misconfigured`), and every browser-facing one gets its CORS headers
from :func:`answered`, the one place they are added.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import cast

from azurefunctions.extensions.http.fastapi import JSONResponse, Request, Response, StreamingResponse

from . import openapi
from .application import Application
from .chat_request import ChatRequest, parse_chat_request, parse_simple_chat_request
from .client_disconnect import ClientDisconnected, unless_disconnected
from .deployment_path import deployment_of, parser_for
from .dialects import responses as responses_dialect
from .dialects import typed_events
from .dialects.openai_chat import ChunkEncoder, collect_completion, encode_stream, error_body
from .dialects.sse import SSE_HEADERS, SSE_MEDIA_TYPE
from .errors import METHOD_NOT_ALLOWED, NOT_FOUND, ClientError, ModelNotFound, RelayError
from .events import StreamEvent
from .misconfigured import Misconfigured, guarded, guarded_sync
from .relay import OpenedStream
from .request_body import read_body, require_json
from .responses_request import ResponsesBody
from .resumable import framing
from .resumable.requests import STREAM_ID_HEADER, resume_point, stream_id_of, wants_resumable
from .resumable.service import ENDED
from .route_table import RouteTable
from .server_timing import OpenTiming
from .streaming.cancellation import close_shielded
from .streaming.request_record import CLIENT_DISCONNECTED, RequestTrace, traced_events
from .telemetry.propagation import client_trace_context

logger = logging.getLogger(__name__)

# nginx's status for "the client closed the connection before the answer"; nobody reads it.
CLIENT_CLOSED_REQUEST = 499
MINT_BODY_LIMIT = 4096

NO_SUCH_STREAM = ClientError("no such stream (or it expired)", code=NOT_FOUND, status=404)

Answer = Callable[[Application, Request], Awaitable[Response]]


def answered(answer: Answer) -> Callable[[Application | Misconfigured, Request], Awaitable[Response]]:
    """``answer`` with the CORS headers an allowed origin's page needs to read it, or the 503 if misconfigured."""

    @functools.wraps(answer)
    async def with_cors(app: Application, request: Request) -> Response:
        return app.cors.decorate(request.headers, await answer(app, request))

    return guarded(with_cors)


@answered
async def chat_completions(app: Application, request: Request) -> Response:
    """``POST /v1/chat/completions``: stream or collect one chat completion."""
    return await _chat(app, request, parse_chat_request)


@answered
async def deployment_chat_completions(app: Application, request: Request) -> Response:
    """``POST /openai/deployments/{alias}/chat/completions``: Azure OpenAI's path, the deployment naming the alias.

    The ``api-version`` query parameter is accepted and ignored: the relay
    speaks one version of the API whatever the client names.
    """
    return await _chat(app, request, parser_for(deployment_of(request.url.path)))


async def _chat(app: Application, request: Request, parse: Callable[[bytes], ChatRequest]) -> Response:
    opened = await open_stream(app, request, parse)
    if isinstance(opened, Response):
        return opened
    chat, stream, events = opened
    if chat.stream:
        return await _stream_response(app, request, chat, stream, events)
    return await _completion_response(chat, stream, events)


@answered
async def chat_events(app: Application, request: Request) -> Response:
    """``POST /chat``: the typed-event dialect; the same canonical stream, a second encoder.

    Failures before the stream are the same OpenAI-style JSON as
    ``/v1/chat/completions``, so a client needs one error path for both.
    """
    opened = await open_stream(app, request, parse_simple_chat_request)
    if isinstance(opened, Response):
        return opened
    _, stream, events = opened
    chunks = typed_events.encode_stream(events, stream.backlog)
    return await sse_response(app, request, framing.TYPED, chunks, relay_headers(stream))


@answered
async def responses(app: Application, request: Request) -> Response:
    """``POST /v1/responses``: the Responses dialect over the same canonical stream as chat.

    The body is translated into a chat request, so everything before the
    stream (auth, policy, quotas, failover, errors) is the chat route's.
    """
    body = ResponsesBody()
    opened = await open_stream(app, request, body)
    if isinstance(opened, Response):
        return opened
    chat, stream, events = opened
    builder = responses_dialect.ResponseBuilder(model=chat.model, echo=body.echo())
    if chat.stream:
        chunks = responses_dialect.encode_stream(events, builder, stream.backlog)
        return await sse_response(app, request, framing.RESPONSES, chunks, relay_headers(stream))
    try:
        document = await responses_dialect.collect_response(events, builder)
    except RelayError as exc:
        return error_response(exc, relay_headers(stream))
    finally:
        await events.aclose()
    return JSONResponse(document, headers=relay_headers(stream))


Opened = tuple[ChatRequest, OpenedStream, AsyncGenerator[StreamEvent, None]]


async def open_stream(app: Application, request: Request, parse: Callable[[bytes], ChatRequest]) -> Opened | Response:
    """Parse the body and open the upstream, or the error response to send instead.

    Both dialects share this path: authentication, body limits, validation,
    request policy and quotas, failover, the race against the client leaving,
    the usage debit, the request's log line and its telemetry: the request's
    span starts here, its parent the client's ``traceparent``, and ends with
    the stream.
    """
    trace, timing = RequestTrace(telemetry=app.telemetry.start_request(request.headers)), OpenTiming()
    try:
        identity = await app.access.authenticate(request.headers)
        trace.client = identity.subject
        require_json(request.headers)
        body = await read_body(request, app.config.limits.max_body_bytes, app.config.limits.body_read_seconds)
        admission = await app.access.admit(identity, parse(body), len(body))
        chat = admission.chat
        trace.alias, trace.stream = chat.model, chat.stream
        with client_trace_context(request.headers), trace.current():
            opened = await admission.attempt(unless_disconnected(request.receive, app.relay.open(chat, trace, timing)))
    except ClientDisconnected:
        trace.finish(CLIENT_DISCONNECTED)
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    except RelayError as exc:
        trace.finish(exc.code)
        return error_response(exc, {**attempts_header(trace.attempts), **server_timing(timing, served=False)})
    except Exception:
        logger.exception("unexpected failure while opening a chat stream")
        trace.finish("internal_error")
        return error_response(RelayError("the relay failed unexpectedly; please retry", code="internal_error"))
    return chat, opened, traced_events(admission.meter(opened.events), trace)


async def _stream_response(
    app: Application,
    request: Request,
    chat: ChatRequest,
    opened: OpenedStream,
    events: AsyncGenerator[StreamEvent, None],
) -> Response:
    legacy = chat.uses_legacy_functions
    encoder = ChunkEncoder(model=chat.model, include_usage=chat.include_usage, legacy_functions=legacy)
    chunks = encode_stream(events, encoder, opened.backlog)
    return await sse_response(app, request, framing.CHAT, chunks, relay_headers(opened))


async def sse_response(
    app: Application, request: Request, dialect: str, chunks: AsyncIterator[bytes], headers: dict[str, str]
) -> Response:
    """The stream as SSE; with ``x-relay-resumable: 1``, generated to the end and logged for resuming.

    The opt-in is refused with a 503 (the upstream closed) when the replay log
    cannot be written, rather than streaming something that could not be resumed.
    """
    if not wants_resumable(request.headers):
        return StreamingResponse(chunks, media_type=SSE_MEDIA_TYPE, headers={**SSE_HEADERS, **headers})
    generator = cast(AsyncGenerator[bytes, None], chunks)
    try:
        identity = await app.access.authenticate(request.headers)
        stream_id, reader = await app.streams.start(identity.subject, dialect, generator)
    except RelayError as exc:
        await close_shielded(generator.aclose())
        return error_response(exc, headers)
    resumable = {**SSE_HEADERS, **headers, STREAM_ID_HEADER: stream_id}
    return StreamingResponse(reader, media_type=SSE_MEDIA_TYPE, headers=resumable)


@answered
async def resume_stream(app: Application, request: Request) -> Response:
    """``GET /v1/streams/{id}``: the events after ``Last-Event-ID`` (or ``?after``), then live, in the stream's dialect.

    Only the identity that opened the stream may read it; anyone else is told
    it does not exist (404), so ids cannot be probed. A stream with nothing
    left after that id is a 204, so an ``EventSource`` stops reconnecting.
    """
    stream_id = stream_id_of(request.url.path)
    try:
        identity = await app.access.authenticate(request.headers)
        after = resume_point(request.headers, request.query_params)
        chunks = None if stream_id is None else await app.streams.resume(identity.subject, stream_id, after)
    except RelayError as exc:
        return error_response(exc)
    if stream_id is None or chunks is None:
        return error_response(NO_SUCH_STREAM)
    if chunks == ENDED:
        return Response(status_code=204, headers={STREAM_ID_HEADER: stream_id})
    return StreamingResponse(chunks, media_type=SSE_MEDIA_TYPE, headers={**SSE_HEADERS, STREAM_ID_HEADER: stream_id})


@answered
async def cancel_stream(app: Application, request: Request) -> Response:
    """``DELETE /v1/streams/{id}``: stop generating, wherever it runs; 204, or 404 for a stream not the caller's."""
    stream_id = stream_id_of(request.url.path)
    try:
        identity = await app.access.authenticate(request.headers)
        found = stream_id is not None and await app.streams.cancel(identity.subject, stream_id)
    except RelayError as exc:
        return error_response(exc)
    return Response(status_code=204) if found else error_response(NO_SUCH_STREAM)


async def _completion_response(
    chat: ChatRequest, opened: OpenedStream, events: AsyncGenerator[StreamEvent, None]
) -> Response:
    try:
        document = await collect_completion(events, chat.model, chat.uses_legacy_functions)
    except RelayError as exc:
        return error_response(exc, relay_headers(opened))
    finally:
        await events.aclose()
    return JSONResponse(document, headers=relay_headers(opened))


@answered
async def list_models(app: Application, request: Request) -> Response:
    """``GET /v1/models``: the public aliases this caller may use, in OpenAI's list format."""
    try:
        identity = await app.access.authenticate(request.headers)
    except RelayError as exc:
        return error_response(exc)
    aliases = app.access.visible_models(identity, app.router.aliases())
    return JSONResponse({"object": "list", "data": [model_object(app, alias) for alias in aliases]})


@answered
async def retrieve_model(app: Application, request: Request) -> Response:
    """``GET /v1/models/{id}``: one alias, if this caller may use it; otherwise the same 404 as an unknown one."""
    alias = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    try:
        identity = await app.access.authenticate(request.headers)
    except RelayError as exc:
        return error_response(exc)
    if alias not in app.access.visible_models(identity, app.router.aliases()):
        missing = ModelNotFound(f"model {alias!r} does not exist; GET /api/v1/models lists the models", param="model")
        return error_response(missing)
    return JSONResponse(model_object(app, alias))


def model_object(app: Application, alias: str) -> dict[str, object]:
    """OpenAI's model object for an alias; ``created`` is when this configuration loaded."""
    return {"id": alias, "object": "model", "created": app.loaded_at, "owned_by": "relay"}


@answered
async def mint_browser_token(app: Application, request: Request) -> Response:
    """``POST /auth/browser-token``: a short-lived token for a web page, granting at most the caller's rights."""
    try:
        identity = await app.access.authenticate(request.headers)
        require_json(request.headers)
        body = await read_body(request, MINT_BODY_LIMIT, app.config.limits.body_read_seconds)
        document = app.access.mint_browser_token(identity, body, app.router.aliases())
    except ClientDisconnected:
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    except RelayError as exc:
        return error_response(exc)
    return JSONResponse(document, headers={"Cache-Control": "no-store"})


@answered
async def openapi_document(app: Application, request: Request) -> Response:
    """``GET /openapi.json``: this API described as OpenAPI 3.1; public, like the README."""
    return openapi.serve()


def unmatched(table: RouteTable) -> Callable[[Application | Misconfigured, Request], Awaitable[Response]]:
    """The catch-all's answer: a 405 naming the methods when the path exists, else a 404 naming the routes."""

    @answered
    async def answer(app: Application, request: Request) -> Response:
        allowed = table.allowed_methods(request.url.path)
        if allowed:
            message = f"{request.method} is not allowed here; use {', '.join(allowed)}"
            refusal = ClientError(message, code=METHOD_NOT_ALLOWED, status=405)
            return error_response(refusal, {"Allow": ", ".join(allowed)})
        message = f"no such route; the relay serves {table.listing()}"
        return error_response(ClientError(message, code=NOT_FOUND, status=404))

    return answer


@guarded_sync
def preflight(app: Application, request: Request) -> Response:
    """``OPTIONS`` on any route: the CORS preflight, answered from ``cors``."""
    return app.cors.preflight(request.headers)


@guarded_sync
def health(app: Application) -> Response:
    """``GET /health``: liveness and per-backend state."""
    return JSONResponse(app.health(), headers={"Cache-Control": "no-store"})


def relay_headers(opened: OpenedStream) -> dict[str, str]:
    """Which backend answered, after how many tries and how long each part took; names and times only."""
    return {
        "x-relay-backend": opened.backend,
        **attempts_header(opened.attempts),
        **server_timing(opened.timing, served=True),
    }


def server_timing(timing: OpenTiming, served: bool) -> dict[str, str]:
    """``Server-Timing``: relay overhead apart from upstream latency (see :mod:`.server_timing`)."""
    return {"Server-Timing": timing.header(served)}


def attempts_header(attempts: int) -> dict[str, str]:
    """How many backends were tried, also on errors, so a 503 tells how hard the relay tried."""
    return {"x-relay-attempts": str(attempts)}


def error_response(error: RelayError, headers: dict[str, str] | None = None) -> Response:
    """OpenAI-style error JSON with the error's status and Retry-After."""
    all_headers = dict(headers or {})
    if error.status == 401:
        all_headers["WWW-Authenticate"] = "Bearer"
    if error.retry_after is not None:
        all_headers["Retry-After"] = retry_after_header(error.retry_after)
    return JSONResponse(error_body(error), status_code=error.status, headers=all_headers)


def retry_after_header(seconds: float) -> str:
    """Whole seconds, rounded up from the body's millisecond value, so header and body agree."""
    return str(max(1, math.ceil(round(seconds, 3))))
