"""The limiter and an admission's two hooks: leases close exactly once, on every path."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.auth.identity import Identity
from shared.chat_request import ChatRequest
from shared.errors import TooManyRequests, UpstreamUnavailable
from shared.events import Finish, StreamError, StreamEvent, TextDelta, Usage
from shared.limits import Limiter, Quota, QuotaSettings, Ticket
from shared.limits.store import MemoryStore
from shared.streaming.quota_lease import Admission

NOW = 1_700_050_000.0
CHAT = ChatRequest.model_validate({"model": "azure", "messages": [{"role": "user", "content": "hi"}]})
CLIENT = Identity(subject="key:ci", method="relay_key")


def limiter(**quota: int) -> Limiter:
    settings = QuotaSettings(profiles={"default": Quota(**quota)})
    return Limiter(settings, MemoryStore(), clock=lambda: NOW)


async def admitted(limits: Limiter, tokens: int = 500) -> Admission:
    ticket = await limits.acquire(CLIENT.subject, CLIENT.profile, tokens)
    return Admission(CLIENT, CHAT, ticket, limits)


async def events(*items: StreamEvent) -> AsyncIterator[StreamEvent]:
    for item in items:
        yield item


async def state(limits: Limiter) -> tuple[int, int, int]:
    ledger = await limits.store.read(CLIENT.subject)
    return ledger.spent, ledger.reserved, len(ledger.leases)


@pytest.mark.anyio
async def test_usage_is_debited_before_the_terminal_event_goes_out() -> None:
    limits = limiter(tokens_per_day=10_000)
    admission = await admitted(limits)
    seen = []
    async for event in admission.meter(events(TextDelta("hi"), Usage(12, 30), Finish("stop"))):
        if isinstance(event, Finish):
            seen.append(await state(limits))
    assert seen == [(42, 0, 0)]


@pytest.mark.anyio
async def test_a_stream_error_without_usage_charges_the_reservation() -> None:
    limits = limiter(tokens_per_day=10_000)
    admission = await admitted(limits, tokens=700)
    async for _ in admission.meter(events(TextDelta("hi"), StreamError("upstream_truncated", "lost"))):
        pass
    assert await state(limits) == (700, 0, 0)


@pytest.mark.anyio
async def test_a_client_that_leaves_mid_stream_is_charged_the_reservation() -> None:
    limits = limiter(tokens_per_day=10_000)
    admission = await admitted(limits, tokens=700)
    metered = admission.meter(events(TextDelta("a"), TextDelta("b"), Usage(1, 1), Finish("stop")))
    assert await anext(metered) == TextDelta("a")
    await metered.aclose()
    assert await state(limits) == (700, 0, 0)


@pytest.mark.anyio
async def test_a_failed_open_releases_the_lease_uncharged() -> None:
    limits = limiter(tokens_per_day=10_000, concurrent_streams=1)
    admission = await admitted(limits)

    async def failing() -> None:
        raise UpstreamUnavailable("down")

    with pytest.raises(UpstreamUnavailable):
        await admission.attempt(failing())
    assert await state(limits) == (0, 0, 0)
    await admitted(limits)  # the slot is free again


@pytest.mark.anyio
async def test_a_lease_closes_only_once() -> None:
    limits = limiter(tokens_per_day=10_000)
    admission = await admitted(limits, tokens=700)
    async for _ in admission.meter(events(Usage(5, 5), Finish("stop"))):
        pass
    async for _ in admission.meter(events(Finish("stop"))):
        pass
    assert await state(limits) == (10, 0, 0)


@pytest.mark.anyio
async def test_concurrency_frees_when_a_stream_ends() -> None:
    limits = limiter(concurrent_streams=1)
    first = await admitted(limits)
    with pytest.raises(TooManyRequests):
        await admitted(limits)
    async for _ in first.meter(events(Finish("stop"))):
        pass
    await admitted(limits)


@pytest.mark.anyio
async def test_no_quota_means_no_ledger_at_all() -> None:
    limits = limiter()
    assert await limits.acquire(CLIENT.subject, "default", 10) is None
    assert await limits.store.read(CLIENT.subject) == (await MemoryStore().read("nobody"))


def test_profiles_fall_back_to_default() -> None:
    settings = QuotaSettings(profiles={"default": Quota(requests_per_minute=5), "batch": Quota(tokens_per_day=9)})
    limits = Limiter(settings, MemoryStore())
    assert limits.quota("batch").tokens_per_day == 9
    assert limits.quota("unknown").requests_per_minute == 5
    assert Limiter(QuotaSettings(), MemoryStore()).quota("any") == Quota()


@pytest.mark.anyio
async def test_a_store_failure_while_closing_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    limits = limiter(tokens_per_day=10_000)
    admission = await admitted(limits)

    class Broken(MemoryStore):
        async def update(self, subject: str, change: object) -> object:  # type: ignore[override]
            raise OSError("store gone")

    limits.store = Broken()
    async for _ in admission.meter(events(Finish("stop"))):
        pass
    assert "will expire" in caplog.text


@pytest.mark.anyio
async def test_malformed_usage_charges_the_reservation_and_frees_the_slot() -> None:
    limits = limiter(tokens_per_day=10_000, concurrent_streams=1)
    admission = await admitted(limits, tokens=700)
    malformed = Usage("x", None)  # type: ignore[arg-type]
    seen = [event async for event in admission.meter(events(TextDelta("hi"), malformed, Finish("stop")))]
    assert seen[-1] == Finish("stop")
    assert await state(limits) == (700, 0, 0)


class FailingSettle(Limiter):
    async def settle(self, ticket: Ticket, used: int | None) -> None:
        raise RuntimeError("settle broke")


@pytest.mark.anyio
async def test_a_settle_that_fails_still_frees_the_slot() -> None:
    limits = FailingSettle(QuotaSettings(profiles={"default": Quota(concurrent_streams=1)}), MemoryStore(), lambda: NOW)
    admission = await admitted(limits)
    seen = [event async for event in admission.meter(events(Usage(1, 2), Finish("stop")))]
    assert seen[-1] == Finish("stop")
    assert (await state(limits))[2] == 0
