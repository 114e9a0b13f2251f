"""A deterministic routing simulation: 1,000 requests over three rate-limited backends.

The real :class:`~shared.relay.Relay` and :class:`~shared.routing.Router` run
against simulated backends on a simulated clock with a seeded random source,
so every run gives the same table. Each backend has a token-bucket capacity
(requests per second), answers 429 with a Retry-After when its bucket is
empty, reports its remaining requests like Azure OpenAI does, and may have
scripted outages during which it answers 429 to everything.

The same script runs under three policies:

* ``smart router`` — the relay's router: weights, cooldowns, headroom, failover;
* ``round-robin`` — plain round-robin, blind to cooldowns, one attempt per request;
* ``round-robin + retry`` — round-robin that retries the next backend on a 429.

Run ``python -m bench.routing_simulation`` to print the table.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import random
from collections import Counter
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.chat_request import ChatRequest
from shared.config import RelayConfig, parse_config
from shared.errors import UpstreamError, UpstreamRateLimited
from shared.events import Finish, StreamEvent, TextDelta, Usage
from shared.providers.contract import BackendSettings, UpstreamStream
from shared.relay import Relay
from shared.routing import Router

from .report import Row

SEED = 20240521
ALIAS = "gpt"


@dataclass(frozen=True)
class Outage:
    """A window during which a backend answers every request with 429."""

    start: float
    end: float
    retry_after: float


@dataclass(frozen=True)
class BackendSpec:
    """One simulated deployment: its routing weight and its real capacity."""

    name: str
    weight: float
    per_second: float
    burst: float
    outages: tuple[Outage, ...] = ()


@dataclass(frozen=True)
class Phase:
    """A stretch of traffic at a steady rate; ``steady`` phases have no outage or overload."""

    name: str
    requests: int
    per_second: float
    steady: bool = False


@dataclass(frozen=True)
class Script:
    backends: tuple[BackendSpec, ...]
    phases: tuple[Phase, ...]
    seed: int = SEED


# Capacities differ and are not proportional to equal shares, so ignoring
# weights overloads the smallest backend. Aggregate capacity covers the load
# in every phase, counting the extra Retry-After a backend asks for after its
# last scripted 429: each outage falls in a phase light enough for the other
# two backends to carry.
SCRIPT = Script(
    backends=(
        BackendSpec("east", weight=5, per_second=7, burst=10, outages=(Outage(65, 75, retry_after=5),)),
        BackendSpec("west", weight=3, per_second=6, burst=8, outages=(Outage(105, 108, retry_after=2),)),
        BackendSpec("north", weight=2, per_second=2.5, burst=4),
    ),
    phases=(
        Phase("calm", requests=480, per_second=8, steady=True),  # 0-60 s
        Phase("east out", requests=180, per_second=6),  # 60-90 s
        Phase("surge", requests=160, per_second=11),  # 90-105 s
        Phase("west out", requests=60, per_second=8),  # 105-112 s
        Phase("cool-down", requests=120, per_second=8, steady=True),  # 112-127 s
    ),
)


@dataclass(frozen=True)
class Attempt:
    """One upstream call, as the simulated backend saw it."""

    at: float
    backend: str
    refused: bool
    retry_after: float | None = None


@dataclass
class Result:
    """What one policy did with the script."""

    policy: str
    requests: int = 0
    served: Counter[str] = field(default_factory=Counter)
    client_errors: Counter[int] = field(default_factory=Counter)
    attempts: list[Attempt] = field(default_factory=list)
    steady_served: Counter[str] = field(default_factory=Counter)

    @property
    def success_rate(self) -> float:
        return sum(self.served.values()) / self.requests

    @property
    def upstream_429s(self) -> int:
        return sum(1 for attempt in self.attempts if attempt.refused)

    def cooldown_violations(self) -> int:
        """Calls sent to a backend before the Retry-After of its last 429 had passed."""
        cooling_until: dict[str, float] = {}
        violations = 0
        for attempt in self.attempts:
            if attempt.at < cooling_until.get(attempt.backend, -math.inf):
                violations += 1
            if attempt.refused and attempt.retry_after is not None:
                cooling_until[attempt.backend] = attempt.at + attempt.retry_after
        return violations

    def steady_shares(self) -> dict[str, float]:
        """Each backend's share of the requests served in steady phases."""
        total = sum(self.steady_served.values())
        return {name: count / total for name, count in self.steady_served.items()}


class SimClock:
    """Simulated seconds; the router reads it, the script advances it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SimBackend:
    """A provider adapter backed by a token bucket instead of a network."""

    def __init__(self, spec: BackendSpec, settings: BackendSettings, clock: SimClock, log: list[Attempt]) -> None:
        self.spec = spec
        self.settings = settings
        self._clock = clock
        self._log = log
        self._tokens = spec.burst
        self._filled_at = 0.0

    async def open(self, request: ChatRequest) -> UpstreamStream:
        now = self._refill()
        outage = next((o for o in self.spec.outages if o.start <= now < o.end), None)
        if outage is not None or self._tokens < 1:
            retry_after = outage.retry_after if outage else (1 - self._tokens) / self.spec.per_second
            self._log.append(Attempt(now, self.spec.name, refused=True, retry_after=retry_after))
            raise UpstreamRateLimited(f"{self.spec.name} is rate limited", retry_after=retry_after)
        self._tokens -= 1
        self._log.append(Attempt(now, self.spec.name, refused=False))
        return UpstreamStream(events=_answer(), headers=self._headers())

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self.spec.burst, self._tokens + (now - self._filled_at) * self.spec.per_second)
        self._filled_at = now
        return now

    def _headers(self) -> dict[str, str]:
        """Remaining requests, and when the next one frees up, as OpenAI-style headers."""
        next_token = max(0.0, 1 - (self._tokens % 1)) / self.spec.per_second
        return {
            "x-ratelimit-remaining-requests": str(math.floor(self._tokens)),
            "x-ratelimit-reset-requests": f"{next_token:.3f}s",
        }

    async def aclose(self) -> None:
        pass


async def _answer() -> AsyncIterator[StreamEvent]:
    yield TextDelta("ok")
    yield Usage(10, 1)
    yield Finish("stop")


class RoundRobinRouter(Router):
    """The baseline: each backend in turn, blind to cooldowns, circuits and headroom."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turn = itertools.count()

    def choose(self, alias: str, exclude: Collection[str] = ()) -> BackendSettings | None:
        candidates = [backend for backend in self.pool(alias) if backend.name not in exclude]
        return candidates[next(self._turn) % len(candidates)] if candidates else None


POLICIES: dict[str, tuple[type[Router], int]] = {
    "smart router": (Router, 3),
    "round-robin": (RoundRobinRouter, 1),
    "round-robin + retry": (RoundRobinRouter, 3),
}


def relay_config(script: Script, max_attempts: int) -> RelayConfig:
    backends = [
        {
            "name": spec.name,
            "provider": "azure_openai",
            "endpoint": f"https://{spec.name}.invalid",
            "deployment": spec.name,
            "weight": spec.weight,
        }
        for spec in script.backends
    ]
    return parse_config(
        {
            "backends": backends,
            "models": {ALIAS: [spec.name for spec in script.backends]},
            "routing": {"failover": {"max_attempts": max_attempts}},
        }
    )


def arrivals(script: Script, rng: random.Random) -> list[tuple[float, Phase]]:
    """(time, phase) of every request: each phase's rate, with ±50 % jitter between arrivals."""
    times: list[tuple[float, Phase]] = []
    now = 0.0
    for phase in script.phases:
        for _ in range(phase.requests):
            now += rng.uniform(0.5, 1.5) / phase.per_second
            times.append((now, phase))
    return times


async def run_policy(script: Script, policy: str) -> Result:
    """Play the script through a real relay whose router follows ``policy``."""
    router_type, max_attempts = POLICIES[policy]
    config = relay_config(script, max_attempts)
    clock, result = SimClock(), Result(policy)
    pools = {alias: [config.backend(name) for name in names] for alias, names in config.models.items()}
    router = router_type(pools, config.routing, clock=clock, rng=random.Random(script.seed))
    adapters = {
        spec.name: SimBackend(spec, config.backend(spec.name), clock, result.attempts) for spec in script.backends
    }
    relay = Relay(config, adapters, router=router)
    request = ChatRequest.model_validate({"model": ALIAS, "messages": [{"role": "user", "content": "hi"}]})
    for at, phase in arrivals(script, random.Random(script.seed + 1)):
        clock.now = at
        result.requests += 1
        served_by = await _serve(relay, request, result)
        if served_by is not None and phase.steady:
            result.steady_served[served_by] += 1
    return result


async def _serve(relay: Relay, request: ChatRequest, result: Result) -> str | None:
    try:
        opened = await relay.open(request)
    except UpstreamError as exc:
        result.client_errors[exc.status] += 1
        return None
    async for _ in opened.events:
        pass
    result.served[opened.backend] += 1
    return opened.backend


def simulate(script: Script = SCRIPT) -> list[Result]:
    """Every policy's result for ``script``, in :data:`POLICIES` order."""
    return [asyncio.run(run_policy(script, policy)) for policy in POLICIES]


def render(results: Sequence[Result], script: Script = SCRIPT) -> str:
    """The comparison as a plain-text table, plus the smart router's split in steady phases."""
    header = f"{'policy':<22}{'served':>8}{'success':>9}{'client 429':>12}{'client 503':>12}{'upstream 429':>14}"
    rows = [
        f"{r.policy:<22}{sum(r.served.values()):>8}{r.success_rate:>9.1%}{r.client_errors[429]:>12}"
        f"{r.client_errors[503]:>12}{r.upstream_429s:>14}"
        for r in results
    ]
    weights = {spec.name: spec.weight for spec in script.backends}
    total_weight = sum(weights.values())
    shares = results[0].steady_shares()
    split = ", ".join(
        f"{name} {shares.get(name, 0):.1%} (weight {weight / total_weight:.0%})" for name, weight in weights.items()
    )
    requests = results[0].requests
    return "\n".join(
        [f"Routing simulation: {requests} requests, seed {script.seed}", header, *rows, f"steady-phase split: {split}"]
    )


def main() -> None:
    logging.getLogger("shared.relay").setLevel(logging.ERROR)
    print(render(simulate()))


if __name__ == "__main__":
    main()


def rows() -> list[Row]:
    """The simulation as ``make bench`` table rows."""
    logging.getLogger("shared.relay").setLevel(logging.ERROR)
    results = simulate()
    table = [
        Row(
            "routing",
            result.policy,
            {
                "requests": result.requests,
                "success": f"{result.success_rate:.1%}",
                "client 429": result.client_errors[429],
                "client 503": result.client_errors[503],
                "upstream 429": result.upstream_429s,
                "cooldown violations": result.cooldown_violations(),
            },
        )
        for result in results
    ]
    shares = results[0].steady_shares()
    table.append(Row("routing", "smart router steady split", {n: f"{s:.1%}" for n, s in shares.items()}))
    return table
