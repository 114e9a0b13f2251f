"""One client's quota state and the pure transitions that change it.

Everything a limit needs lives in one small record per client, so a store can
change it with one conditional write and there is nothing to roll back when a
request is refused:

* a fixed one-minute window and the requests admitted in it;
* the UTC day, the tokens spent in it, and the open leases.

A lease is an admitted request still in flight: it holds a concurrency slot
and reserves the most tokens the request can use (its prompt's size in bytes
plus its output ceiling). Admission counts reservations as spent, so however
many requests race, the day's spending never passes the budget. When the
stream ends, its final usage replaces the reservation. A lease whose instance
died expires and its whole reservation is charged, which errs on the side of
the budget.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from ..errors import TooManyRequests
from .settings import Quota

WINDOW_SECONDS = 60
DAY_SECONDS = 86400
MAX_LEASES = 500
BUSY_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Lease:
    """An admitted request that has not finished."""

    expires_at: float
    tokens: int


@dataclass(frozen=True)
class Ledger:
    """A client's counters; the zero value is a client never seen."""

    window_start: int = 0
    window_count: int = 0
    day: str = ""
    spent: int = 0
    leases: MappingProxyType[str, Lease] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def reserved(self) -> int:
        return sum(lease.tokens for lease in self.leases.values())

    def to_json(self) -> str:
        """A compact document for stores that keep text."""
        leases = {lease_id: [lease.expires_at, lease.tokens] for lease_id, lease in self.leases.items()}
        return json.dumps(
            {"w": self.window_start, "n": self.window_count, "d": self.day, "s": self.spent, "l": leases},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Ledger:
        document: dict[str, Any] = json.loads(text)
        leases = {lease_id: Lease(float(value[0]), int(value[1])) for lease_id, value in document["l"].items()}
        return cls(int(document["w"]), int(document["n"]), str(document["d"]), int(document["s"]), _frozen(leases))


def current(ledger: Ledger, now: float) -> Ledger:
    """The ledger at ``now``: a new window or day resets its counter; expired leases are charged."""
    window = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    today = utc_day(now)
    spent = ledger.spent if ledger.day == today else 0
    live = {lease_id: lease for lease_id, lease in ledger.leases.items() if lease.expires_at > now}
    spent += sum(lease.tokens for lease_id, lease in ledger.leases.items() if lease_id not in live)
    count = ledger.window_count if ledger.window_start == window else 0
    return Ledger(window, count, today, spent, _frozen(live))


def open_lease(ledger: Ledger, quota: Quota, lease_id: str | None, lease: Lease, now: float) -> Ledger:
    """Count one more request and open its lease, or raise ``TooManyRequests``.

    ``lease_id`` is None when the quota limits only the request rate, so
    nothing needs to be held until the request ends.
    """
    ledger = current(ledger, now)
    _check_rate(ledger, quota, now)
    leases = dict(ledger.leases)
    if lease_id is not None:
        _check_concurrency(ledger, quota)
        _check_tokens(ledger, quota, lease.tokens, now)
        leases[lease_id] = lease
    return replace(ledger, window_count=ledger.window_count + 1, leases=_frozen(leases))


def settle(ledger: Ledger, lease_id: str, used: int | None, now: float) -> Ledger:
    """Close a lease, charging ``used`` tokens, or its whole reservation when usage is unknown.

    A lease that already expired was charged in full then; it is not charged twice.
    """
    ledger = current(ledger, now)
    lease = ledger.leases.get(lease_id)
    if lease is None:
        return ledger
    leases = {key: value for key, value in ledger.leases.items() if key != lease_id}
    charge = lease.tokens if used is None else used
    return replace(ledger, spent=ledger.spent + charge, leases=_frozen(leases))


def release(ledger: Ledger, lease_id: str, now: float) -> Ledger:
    """Close a lease without charging: the request never reached a model."""
    ledger = current(ledger, now)
    leases = {key: value for key, value in ledger.leases.items() if key != lease_id}
    return replace(ledger, leases=_frozen(leases))


def utc_day(now: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(now))


def _check_rate(ledger: Ledger, quota: Quota, now: float) -> None:
    limit = quota.requests_per_minute
    if limit is not None and ledger.window_count >= limit:
        wait = ledger.window_start + WINDOW_SECONDS - now
        raise TooManyRequests(f"rate limit of {limit} requests per minute reached", retry_after=max(wait, 1.0))


def _check_concurrency(ledger: Ledger, quota: Quota) -> None:
    limit = min(quota.concurrent_streams or MAX_LEASES, MAX_LEASES)
    if len(ledger.leases) >= limit:
        raise TooManyRequests(f"limit of {limit} concurrent streams reached", retry_after=BUSY_RETRY_SECONDS)


def _check_tokens(ledger: Ledger, quota: Quota, tokens: int, now: float) -> None:
    budget = quota.tokens_per_day
    if budget is None or ledger.spent + ledger.reserved + tokens <= budget:
        return
    until_tomorrow = DAY_SECONDS - now % DAY_SECONDS
    if ledger.spent + tokens > budget:
        message = f"daily token budget of {budget} is spent; this request may use up to {tokens} tokens"
        raise TooManyRequests(message, code="insufficient_quota", retry_after=until_tomorrow)
    message = f"daily token budget of {budget} is reserved by requests in flight"
    raise TooManyRequests(message, code="insufficient_quota", retry_after=BUSY_RETRY_SECONDS)


def _frozen(leases: dict[str, Lease]) -> MappingProxyType[str, Lease]:
    return MappingProxyType(leases)
