"""The Bedrock adapter: a translated request in, canonical events out."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from ...chat_request import ChatRequest
from ...errors import RelayError, UpstreamUnavailable
from ...events import StreamEvent
from ..contract import UpstreamStream
from ..upstream.headers import routing_headers
from ..upstream.queued_events import QueuedEvents
from .eventstream import EventStreamDecoder, EventStreamError
from .failures import transport_failure
from .request import converse_params
from .response import ConverseTranslator
from .settings import BedrockSettings
from .structured import structured_tool
from .transport import ConverseClient


class BedrockAdapter:
    """One Bedrock backend: its signing client and connection pool, shared by every request."""

    def __init__(self, settings: BedrockSettings, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self._client = ConverseClient(settings, environ)

    async def open(self, request: ChatRequest) -> UpstreamStream:
        """Translate, send, and wait for Bedrock's answer; unsupported parameters fail before sending."""
        settings = self.settings
        params = converse_params(request, settings.model_id, settings.structured_output)
        answer_tool = structured_tool(request, settings.structured_output, settings.model_id)
        response = await self._client.open(params)
        events = CanonicalEvents(response, settings.name, answer_tool)
        return UpstreamStream(events=events, headers=routing_headers(response.headers.items()))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


class CanonicalEvents(QueuedEvents):
    """The canonical events of one open ConverseStream response, read as bytes arrive.

    An iterator class rather than a stack of async generators: each received
    segment is decoded and translated in one step, which matters at tens of
    thousands of events a second, its events go out in one write
    (:class:`~..upstream.queued_events.QueuedEvents`), and :meth:`aclose`
    releases the connection even if iteration never started (closing a
    generator that never ran skips its ``finally``).
    """

    def __init__(self, response: aiohttp.ClientResponse, backend: str, answer_tool: str | None = None) -> None:
        super().__init__()
        self._response = response
        self._backend = backend
        self._decoder = EventStreamDecoder()
        self._translator = ConverseTranslator(answer_tool)

    async def _read(self) -> None:
        """Wait for the next bytes and queue every event they complete.

        A failure is queued behind the events that came before it, so text
        that arrived in the same segment as an exception still reaches the client.
        """
        try:
            chunk = await self._response.content.readany()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._fail(transport_failure(exc, self._backend, streaming=True), exc)
            return
        except BaseException:  # cancelled: the client went away
            self._stop()
            raise
        try:
            if chunk:
                for message in self._decoder.feed(chunk):
                    self._pending.extend(self._translator.message_events(message))
            else:
                self._stop()
                self._pending.append(self._finish())
        except ValueError as exc:  # EventStreamError, or a payload that is not JSON
            problem = f"backend {self._backend} sent a malformed event stream"
            self._fail(UpstreamUnavailable(problem, code="upstream_protocol_error"), exc)
        except RelayError as exc:
            self._fail(exc, exc.__cause__)

    def _finish(self) -> StreamEvent:
        if self._decoder.pending:
            raise EventStreamError(f"the stream ended inside a message ({self._decoder.pending} bytes)")
        return self._translator.end()

    def _fail(self, failure: RelayError, cause: BaseException | None) -> None:
        failure.__cause__ = cause
        self._failure = failure
        self._stop()

    def _stop(self) -> None:
        self._ended = True
        self._response.close()

    async def aclose(self) -> None:
        """Stop reading and release the connection; safe to call more than once."""
        self._stop()
