"""A refused credential exchange is remembered for the backoff, then tried again; success is never remembered."""

from __future__ import annotations

import pytest

from shared.auth.exchange_backoff import ExchangeBackoff
from shared.errors import UpstreamUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Exchange:
    """Counts its calls; refuses while ``refusing`` is set, with a message that must not reach clients."""

    def __init__(self) -> None:
        self.calls = 0
        self.refusing = True

    def __call__(self) -> str:
        self.calls += 1
        if self.refusing:
            raise RuntimeError("InvalidIdentityToken: Incorrect token audience")
        return "credentials"


def test_a_refusal_is_remembered_until_the_backoff_ends() -> None:
    clock, exchange = Clock(), Exchange()
    backoff = ExchangeBackoff("bedrock-east", "the exchange at AWS STS", seconds=30, clock=clock)
    for _ in range(3):
        with pytest.raises(UpstreamUnavailable) as caught:
            backoff.run(exchange)
        assert (caught.value.status, caught.value.code, caught.value.retryable) == (503, "upstream_auth_failed", False)
        assert "Incorrect token audience" not in caught.value.message
    assert exchange.calls == 1
    clock.now += 30
    exchange.refusing = False
    assert backoff.run(exchange) == "credentials"
    assert backoff.run(exchange) == "credentials"
    assert exchange.calls == 3  # successes are not cached here: the credentials' own expiry governs them


def test_the_cause_is_logged_once_per_real_attempt(caplog: pytest.LogCaptureFixture) -> None:
    clock, exchange = Clock(), Exchange()
    backoff = ExchangeBackoff("vertex-eu", "the exchange at Google STS", seconds=30, clock=clock)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            backoff.run(exchange)
    causes = [record.getMessage() for record in caplog.records if "Incorrect token audience" in record.getMessage()]
    assert len(causes) == 1 and "vertex-eu" in causes[0]
