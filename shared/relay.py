"""The relay: the failover engine between one adapter per backend and the router.

Opening a request is where failover happens. Until the client has been sent
a byte, any retryable failure (a refused open, or a stream that dies before
its first event) is reported to the router and the next eligible backend is
tried, within ``routing.failover``'s attempt and time budget. The first item
of a stream (an event, or a heartbeat once ``stream.heartbeat_seconds`` pass)
commits the request to its backend; after that a failure can only end the
stream with an error event. Opens start at most ``OPENS_PER_TURN`` per
event-loop turn (:mod:`.streaming.open_throttle`), so a burst of new requests cannot stall
the streams already flowing.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field

from .chat_request import ChatRequest
from .config import RelayConfig
from .errors import (
    RATE_LIMIT_EXCEEDED,
    InvalidRequest,
    ModelNotFound,
    RelayError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from .events import StreamError, StreamEvent
from .providers.contract import ProviderAdapter, UpstreamStream
from .redaction import scrub
from .routing import Router, outcome_of_end, outcome_of_error
from .routing.dispatch import Dispatch
from .server_timing import OpenTiming
from .streaming.cancellation import close_shielded
from .streaming.keepalive import Backlog, never, paced_events
from .streaming.open_throttle import OpenThrottle
from .streaming.outcome_report import reported_events
from .streaming.request_record import RequestTrace
from .streaming.terminal_guarantee import guarded_events

logger = logging.getLogger(__name__)

# Streams that may start opening per event-loop turn; more wait for later turns (see streaming/open_throttle.py).
# About 16 ms of opening work per turn at the ~1 ms an open costs, less than one 20 ms token interval.
OPENS_PER_TURN = 16

# What an adapter raises while building an upstream request from content it cannot express.
TRANSLATION_ERRORS = (ValueError, TypeError, RecursionError, OverflowError)

RelayStream = AsyncGenerator[StreamEvent, None]


@dataclass
class OpenedStream:
    """A stream committed to one backend, and how many backends were tried.

    ``events`` is guarded and kept alive: exactly one terminal event,
    heartbeats while the upstream is quiet, upstream closed on every path.
    ``backlog`` counts the events read but not yet passed on, so a writer can
    put the events of one upstream read into one write.
    """

    backend: str
    attempts: int
    events: RelayStream
    timing: OpenTiming = field(default_factory=OpenTiming)
    backlog: Backlog = field(default_factory=Backlog)


class Relay:
    """Opens a request's stream on the first backend that serves it; one per process."""

    def __init__(
        self,
        config: RelayConfig,
        adapters: Mapping[str, ProviderAdapter],
        router: Router | None = None,
    ) -> None:
        self.config = config
        self.adapters = dict(adapters)
        self.router = router or Router(
            {alias: [config.backend(name) for name in names] for alias, names in config.models.items()},
            config.routing,
        )
        self._open_throttle = OpenThrottle(OPENS_PER_TURN)

    async def open(
        self, request: ChatRequest, trace: RequestTrace | None = None, timing: OpenTiming | None = None
    ) -> OpenedStream:
        """Commit the request to the first backend that starts a stream, failing over before any byte.

        Raises ``ModelNotFound`` for an unknown alias, the upstream's own error
        when it is not retryable (the request is at fault), and otherwise a
        429 or 503 once no backend of the pool can serve. ``timing`` notes
        when each attempt called its backend and got its headers.
        """
        if not self.router.pool(request.model):
            raise ModelNotFound(
                f"model {request.model!r} does not exist; GET /api/v1/models lists the models", param="model"
            )
        trace = trace or RequestTrace()
        timing = timing or OpenTiming()
        await self._open_throttle.wait_turn()
        failover = self.config.routing.failover
        deadline = asyncio.get_running_loop().time() + failover.budget_seconds
        tried: list[str] = []
        failures: list[Failure] = []
        while len(tried) < failover.max_attempts and asyncio.get_running_loop().time() < deadline:
            dispatch = self.router.dispatch(request.model, exclude=tried)
            if dispatch is None:
                break
            tried.append(dispatch.name)
            trace.attempts, trace.backend = len(tried), dispatch.name
            backlog = Backlog()
            with trace.attempt(dispatch.backend) as attempt:
                try:
                    events = await self._attempt(dispatch, request, deadline, timing, backlog)
                except UpstreamError as exc:
                    logger.warning(
                        "backend %s failed to open (%s, retryable=%s)", dispatch.name, exc.code, exc.retryable
                    )
                    attempt.fail(exc.code, self.router.condition(dispatch.name))
                    if not exc.retryable:
                        raise
                    failures.append(Failure.of_refusal(exc))
                    continue
                if isinstance(events, StreamError):
                    logger.warning("backend %s failed to open (%s, retryable=True)", dispatch.name, events.code)
                    attempt.fail(events.code, self.router.condition(dispatch.name))
                    failures.append(Failure.of_early_end(dispatch.name, events))
                    continue
                attempt.commit()
            return OpenedStream(dispatch.name, len(tried), events, timing, backlog)
        trace.backend = None
        raise self._pool_exhausted(request.model, failures)

    async def _attempt(
        self, dispatch: Dispatch, request: ChatRequest, deadline: float, timing: OpenTiming, backlog: Backlog
    ) -> RelayStream | StreamError:
        """Open one backend and read until its first event; a retryable early end is returned, to fail over.

        The dispatch ends neutral if anything escapes before the stream that
        owns it from then on has recorded an outcome.
        """
        with dispatch:
            timing.calling()
            stream = await self._open_upstream(dispatch, request, deadline)
            timing.answered()
            backlog.upstream_ready = upstream_ready(stream)
            events = paced_events(guarded_events(stream, dispatch.name), self.config.stream, backlog)
            try:
                first = await anext(events)
            except BaseException:
                await close_shielded(stream.aclose())
                raise
            if isinstance(first, StreamError) and first.retryable:
                dispatch.end(outcome_of_end(first))
                await close_shielded(events.aclose())
                return first
            return reported_events(dispatch, first, events)

    async def _open_upstream(self, dispatch: Dispatch, request: ChatRequest, deadline: float) -> UpstreamStream:
        """The adapter's ``open``, bounded by ``attempt_timeout_seconds`` and what is left of the budget.

        A backend that accepts the connection but never answers is abandoned
        as a timeout (held against it) so the next backend gets its turn.

        Only the upstream's own failures are held against the backend; an
        adapter that raises anything else becomes a clean relay error.
        """
        loop = asyncio.get_running_loop()
        attempt_seconds = self.config.routing.failover.attempt_timeout_seconds
        try:
            async with asyncio.timeout_at(min(deadline, loop.time() + attempt_seconds)):
                stream = await self.adapters[dispatch.name].open(request)
        except TimeoutError:
            error = UpstreamTimeout(f"backend {dispatch.name} sent no response headers in time")
            dispatch.end(outcome_of_error(error))
            raise error from None
        except UpstreamError as exc:
            dispatch.end(outcome_of_error(exc))
            scrub_message(exc)
            raise
        except RelayError:
            raise
        except Exception as exc:
            raise adapter_fault(dispatch.name, exc) from exc
        dispatch.observe_headers(stream.headers)
        return stream

    def _pool_exhausted(self, alias: str, failures: list[Failure]) -> UpstreamError:
        """429 when rate limits are all that stand in the way, else 503; Retry-After from the pool's recovery."""
        retry_after = self.router.retry_after(alias)
        if self.router.only_rate_limited(alias, [failure.rate_limited for failure in failures]):
            retry_after = retry_after if retry_after is not None else self.config.routing.cooldown.default_seconds
            return UpstreamRateLimited(
                f"every backend for model {alias!r} is rate limited; retry after {math.ceil(retry_after)} s",
                retry_after=retry_after,
            )
        failure = next((failure for failure in reversed(failures) if not failure.rate_limited), None)
        code = failure.code if failure else "upstream_unavailable"
        detail = f": {failure.message}" if failure else ""
        return UpstreamUnavailable(
            f"no backend for model {alias!r} could serve the request{detail}",
            code=code,
            status=503,
            retry_after=retry_after,
        )

    def health(self) -> dict[str, object]:
        """Liveness and per-backend state; names and providers only, never secrets."""
        return {"status": "ok", "backends": self.router.health()}

    async def aclose(self) -> None:
        """Close every SDK client."""
        for adapter in self.adapters.values():
            await adapter.aclose()


@dataclass(frozen=True)
class Failure:
    """Why one backend of the pool could not serve: a refused open, or a stream that ended before its first event."""

    code: str
    message: str
    rate_limited: bool

    @classmethod
    def of_refusal(cls, error: UpstreamError) -> Failure:
        return cls(error.code, error.message, rate_limited=error.status == 429)

    @classmethod
    def of_early_end(cls, backend: str, event: StreamError) -> Failure:
        message = f"backend {backend} failed before its first event: {event.message}"
        return cls(event.code, message, rate_limited=event.code == RATE_LIMIT_EXCEEDED)


def upstream_ready(stream: UpstreamStream) -> Callable[[], bool]:
    """The adapter's "next event already decoded" test, when its event reader has one; else never."""
    ready = getattr(stream.events, "ready", None)
    return ready if callable(ready) else never


def scrub_message(error: UpstreamError) -> None:
    """Scrub ``error``'s upstream text in place: where a refused open's message enters the relay."""
    error.message = scrub(error.message)
    error.args = (error.message,)


def adapter_fault(backend: str, error: Exception) -> RelayError:
    """What the client is told when an adapter's ``open`` raised something other than a relay error.

    The translation errors are what building the upstream request raises on
    content it cannot express (NaN, a lone surrogate, nesting too deep), so
    they are the client's 400; anything else is a bug in the relay, a 500.
    Neither is the backend's fault, and neither message repeats the
    exception's text, which may quote the request.
    """
    kind = type(error).__name__
    if isinstance(error, TRANSLATION_ERRORS):
        logger.warning("backend %s could not translate the request (%s)", backend, kind)
        return InvalidRequest(f"the request holds a value the provider cannot accept ({kind}); check its fields")
    logger.error("backend %s: unexpected failure while opening the upstream", backend, exc_info=error)
    return RelayError("the relay failed unexpectedly while opening the upstream; please retry", code="internal_error")
