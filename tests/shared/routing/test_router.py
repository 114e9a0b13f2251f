"""The router shell: injected clock and random source, outcomes folded in, health described."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from shared.providers.azure_openai import AzureOpenAISettings
from shared.routing import Outcome, Router, Verdict
from shared.routing.outcome import NEUTRAL, SUCCESS
from shared.routing.settings import BreakerSettings, RoutingSettings
from shared.routing.state import Condition


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def backend(name: str, priority: int = 1) -> AzureOpenAISettings:
    return AzureOpenAISettings(
        name=name, provider="azure_openai", endpoint="https://x.openai.azure.com", deployment=name, priority=priority
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def router(clock: FakeClock) -> Router:
    settings = RoutingSettings(breaker=BreakerSettings(failure_threshold=2, open_seconds=30))
    pools = {"gpt": [backend("east"), backend("west", priority=2)], "other": [backend("west", priority=2)]}
    return Router(pools, settings, clock=clock, rng=random.Random(1))


def test_aliases_and_pools(router: Router) -> None:
    assert router.aliases() == ["gpt", "other"]
    assert [b.name for b in router.pool("gpt")] == ["east", "west"]
    assert router.pool("nope") == ()
    assert router.choose("nope") is None


def test_a_429_sends_traffic_elsewhere_until_retry_after(router: Router, clock: FakeClock) -> None:
    router.record("east", Outcome(Verdict.RATE_LIMITED, 5))
    assert router.choose("gpt").name == "west"  # type: ignore[union-attr]
    assert router.retry_after("gpt") == 5
    clock.now += 5
    assert router.choose("gpt").name == "east"  # type: ignore[union-attr]
    assert router.retry_after("gpt") is None


def test_breaker_opens_then_lets_one_probe_through(router: Router, clock: FakeClock) -> None:
    router.record("east", Outcome(Verdict.FAILURE))
    router.record("east", Outcome(Verdict.FAILURE))
    assert router.condition("east") is Condition.CIRCUIT_OPEN
    assert router.choose("gpt").name == "west"  # type: ignore[union-attr]
    clock.now += 30
    assert router.choose("gpt").name == "east"  # type: ignore[union-attr]
    assert router.condition("east") is Condition.PROBING
    assert router.choose("gpt").name == "west"  # type: ignore[union-attr]
    router.record("east", SUCCESS)
    assert router.condition("east") is Condition.HEALTHY


def test_a_probe_whose_client_left_frees_the_slot(router: Router, clock: FakeClock) -> None:
    router.record("east", Outcome(Verdict.FAILURE))
    router.record("east", Outcome(Verdict.FAILURE))
    clock.now += 30
    router.choose("gpt")
    router.record("east", NEUTRAL)
    assert router.condition("east") is Condition.HALF_OPEN


def test_headroom_from_headers_steers_away_before_a_429(router: Router) -> None:
    router.record_headers("east", {"x-ratelimit-remaining-requests": "2"})
    assert router.choose("gpt").name == "east"  # type: ignore[union-attr]  # 2 left, then 1 counted locally
    assert router.choose("gpt").name == "west"  # type: ignore[union-attr]
    router.record_headers("east", {"x-ratelimit-remaining-requests": "900"})
    assert router.choose("gpt").name == "east"  # type: ignore[union-attr]


def test_health_shows_conditions_and_wall_clock_times(router: Router) -> None:
    router.record("east", Outcome(Verdict.RATE_LIMITED, 60))
    router.record_headers("west", {"x-ratelimit-remaining-requests": "7", "x-ratelimit-remaining-tokens": "7000"})
    router.record("west", Outcome(Verdict.FAILURE))
    east, west = router.health()
    assert east["name"] == "east" and east["provider"] == "azure_openai"
    assert east["state"] == "cooling_down"
    assert east["until"].endswith("+00:00")
    seconds_left = (datetime.fromisoformat(east["until"]) - datetime.now(UTC)).total_seconds()
    assert 55 < seconds_left <= 60
    assert west == {
        "name": "west",
        "provider": "azure_openai",
        "state": "healthy",
        "consecutive_failures": 1,
        "remaining": {"requests": 7, "tokens": 7000},
    }



RATE_LIMITED = Outcome(Verdict.RATE_LIMITED, retry_after=20)
FAILED = Outcome(Verdict.FAILURE)


@pytest.mark.parametrize(
    ("outcomes", "tried", "expected"),
    [
        ({"east": RATE_LIMITED, "west": RATE_LIMITED}, [True, True], True),
        ({"east": RATE_LIMITED}, [True, False], False),  # one tried backend failed otherwise
        ({"east": RATE_LIMITED}, [], True),  # nothing tried: a backend is cooling down
        ({}, [], False),  # nothing tried and nothing cooling down
        ({"east": FAILED, "west": RATE_LIMITED}, [True], True),  # one failure: circuit still closed
        ({"east": FAILED}, [], False),
    ],
)
def test_only_rate_limited_tells_a_429_from_a_503(
    router: Router, outcomes: dict[str, Outcome], tried: list[bool], expected: bool
) -> None:
    for name, outcome in outcomes.items():
        router.record(name, outcome)
    assert router.only_rate_limited("gpt", tried) is expected


def test_an_open_circuit_is_never_only_rate_limited(router: Router) -> None:
    router.record("west", RATE_LIMITED)
    for _ in range(2):
        router.record("east", FAILED)
    assert router.condition("east") is Condition.CIRCUIT_OPEN
    assert router.only_rate_limited("gpt", [True]) is False
