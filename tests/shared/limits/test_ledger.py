"""The quota ledger's pure transitions: windows, days, leases, reservations."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from shared.errors import TooManyRequests
from shared.limits.ledger import MAX_LEASES, Lease, Ledger, current, open_lease, release, settle
from shared.limits.settings import Quota

DAY = 86400
MIDNIGHT = 1_700_006_400.0  # a UTC midnight
NOON = MIDNIGHT + DAY / 2


def lease(tokens: int = 100, expires_at: float = NOON + 1800) -> Lease:
    return Lease(expires_at=expires_at, tokens=tokens)


def admitted(ledger: Ledger, quota: Quota, lease_id: str | None = None, tokens: int = 100, now: float = NOON) -> Ledger:
    return open_lease(ledger, quota, lease_id, lease(tokens, now + 1800), now)


def test_a_new_client_is_admitted_and_counted() -> None:
    ledger = admitted(Ledger(), Quota(requests_per_minute=5), "a")
    assert (ledger.window_count, ledger.day, ledger.spent, list(ledger.leases)) == (1, "2023-11-15", 0, ["a"])
    assert ledger.window_start == NOON // 60 * 60


def test_requests_per_minute_reset_with_the_next_window() -> None:
    quota = Quota(requests_per_minute=2)
    ledger = admitted(admitted(Ledger(), quota), quota)
    with pytest.raises(TooManyRequests) as caught:
        admitted(ledger, quota, now=NOON + 20)
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.retry_after == pytest.approx(40)
    assert admitted(ledger, quota, now=NOON + 60).window_count == 1


def test_concurrent_streams_are_bounded_by_open_leases() -> None:
    quota = Quota(concurrent_streams=2)
    ledger = admitted(admitted(Ledger(), quota, "a"), quota, "b")
    with pytest.raises(TooManyRequests, match="2 concurrent"):
        admitted(ledger, quota, "c")
    assert "c" in admitted(release(ledger, "a", NOON), quota, "c").leases


def test_even_an_unlimited_client_holds_at_most_max_leases() -> None:
    ledger = Ledger(leases=MappingProxyType({str(index): lease() for index in range(MAX_LEASES)}))
    with pytest.raises(TooManyRequests):
        admitted(ledger, Quota(tokens_per_day=10**9), "one-more")


def test_reservations_count_against_the_budget() -> None:
    quota = Quota(tokens_per_day=250)
    ledger = admitted(admitted(Ledger(), quota, "a", 100), quota, "b", 100)
    with pytest.raises(TooManyRequests) as caught:
        admitted(ledger, quota, "c", 100)
    assert caught.value.code == "insufficient_quota"
    assert caught.value.retry_after == 1.0  # in-flight reservations may come back soon


def test_settling_replaces_the_reservation_with_the_usage() -> None:
    quota = Quota(tokens_per_day=250)
    ledger = admitted(admitted(Ledger(), quota, "a", 100), quota, "b", 100)
    ledger = settle(ledger, "a", 30, NOON)
    assert (ledger.spent, ledger.reserved) == (30, 100)
    assert "c" in admitted(ledger, quota, "c", 100).leases


def test_unknown_usage_charges_the_whole_reservation() -> None:
    ledger = settle(admitted(Ledger(), Quota(tokens_per_day=1000), "a", 120), "a", None, NOON)
    assert (ledger.spent, ledger.reserved) == (120, 0)


def test_a_spent_budget_waits_until_midnight_utc() -> None:
    quota = Quota(tokens_per_day=100)
    ledger = settle(admitted(Ledger(), quota, "a", 90), "a", 90, NOON)
    with pytest.raises(TooManyRequests) as caught:
        admitted(ledger, quota, "b", 20)
    assert caught.value.retry_after == pytest.approx(DAY / 2)
    assert admitted(ledger, quota, "b", 20, now=MIDNIGHT + DAY + 1).spent == 0


def test_a_request_larger_than_the_budget_is_refused() -> None:
    with pytest.raises(TooManyRequests, match="up to 101 tokens"):
        admitted(Ledger(), Quota(tokens_per_day=100), "a", 101)


def test_expired_leases_free_their_slot_and_are_charged_in_full() -> None:
    ledger = admitted(Ledger(), Quota(concurrent_streams=1, tokens_per_day=1000), "a", 80)
    later = current(ledger, NOON + 3600)
    assert (later.spent, dict(later.leases)) == (80, {})
    assert settle(later, "a", 10, NOON + 3600).spent == 80  # never charged twice


def test_release_charges_nothing() -> None:
    ledger = release(admitted(Ledger(), Quota(tokens_per_day=1000), "a", 80), "a", NOON)
    assert (ledger.spent, ledger.reserved) == (0, 0)


def test_a_rate_only_quota_opens_no_lease() -> None:
    assert admitted(Ledger(), Quota(requests_per_minute=1), None).leases == {}


def test_refusals_change_nothing() -> None:
    quota = Quota(requests_per_minute=1)
    ledger = admitted(Ledger(), quota)
    with pytest.raises(TooManyRequests):
        admitted(ledger, quota)
    assert ledger.window_count == 1


def test_the_ledger_round_trips_through_json() -> None:
    ledger = admitted(Ledger(), Quota(tokens_per_day=1000), "a", 80)
    assert Ledger.from_json(ledger.to_json()) == ledger
