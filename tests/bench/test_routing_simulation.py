"""The routing simulation: the smart router against round-robin on the same deterministic script."""

from __future__ import annotations

import pytest

from bench.routing_simulation import SCRIPT, Attempt, Result, render, simulate


@pytest.fixture(scope="module")
def results() -> dict[str, Result]:
    return {result.policy: result for result in simulate()}


def test_the_script_is_a_thousand_requests_over_three_backends(results: dict[str, Result]) -> None:
    assert len(SCRIPT.backends) == 3
    assert {result.requests for result in results.values()} == {1000}


def test_no_client_errors_while_aggregate_capacity_suffices(results: dict[str, Result]) -> None:
    smart = results["smart router"]
    assert sum(smart.client_errors.values()) == 0
    assert smart.success_rate == 1.0


def test_traffic_splits_by_weight_within_five_points(results: dict[str, Result]) -> None:
    total = sum(spec.weight for spec in SCRIPT.backends)
    shares = results["smart router"].steady_shares()
    for spec in SCRIPT.backends:
        assert shares[spec.name] == pytest.approx(spec.weight / total, abs=0.05), spec.name


def test_a_cooling_backend_gets_no_traffic_until_its_retry_after_has_passed(results: dict[str, Result]) -> None:
    smart = results["smart router"]
    assert smart.upstream_429s > 0  # the scripted outages were met...
    assert smart.cooldown_violations() == 0  # ...and respected
    assert results["round-robin + retry"].cooldown_violations() > 0


def test_round_robin_lets_429s_through_to_clients(results: dict[str, Result]) -> None:
    plain = results["round-robin"]
    assert plain.client_errors[429] > 0 and plain.success_rate < results["smart router"].success_rate
    assert results["round-robin + retry"].upstream_429s > 10 * results["smart router"].upstream_429s


def test_the_simulation_is_deterministic(results: dict[str, Result]) -> None:
    again = {result.policy: result for result in simulate()}
    for policy, result in results.items():
        assert again[policy].attempts == result.attempts
        assert again[policy].served == result.served


def test_cooldown_violations_are_counted() -> None:
    result = Result("check", attempts=[Attempt(0, "a", True, 5), Attempt(4.9, "a", False), Attempt(5, "a", False)])
    assert result.cooldown_violations() == 1


def test_render_prints_every_policy(results: dict[str, Result]) -> None:
    table = render(list(results.values()))
    for policy in results:
        assert policy in table
    assert "1000 requests" in table and "100.0%" in table and "steady-phase split" in table
