"""The goals benchmark: its checks, its quiet wait, its table, and a tiny end-to-end run through a real relay."""

from __future__ import annotations

import os
import threading
import time

import pytest

from bench.goal_checks import missed
from bench.goals import Scale, run
from bench.quiet import Quiet, busy_cores, wait_until_quiet
from bench.report import Row, render_columns

pytestmark = pytest.mark.timeout(120)

MEETING = {
    "open CPU ms/req": 0.4,
    "added TTFT ms": 0.7,
    "burst TTFT p50 ms": 50.0,
    "stream p50 s": 4.9,
    "gap p99 ms": 99.0,
    "errors": 0,
    "peak RSS MiB": 150.0,
    "relay µs/chunk": 19.0,
    "saturation chunks/s": 61_000,
}


def test_a_row_that_meets_every_goal_misses_none_and_each_threshold_is_checked() -> None:
    assert missed(MEETING, ideal_seconds=4.0) == []
    assert missed({**MEETING, "stream p50 s": 5.1}, 4.0) == ["stream<=1.25x"]
    assert missed({**MEETING, "errors": 1, "saturation chunks/s": 59_000}, 4.0) == ["0 errors", "sat>=60k"]
    assert missed({**MEETING, "open CPU ms/req": None, "relay µs/chunk": 21.0}, 4.0) == ["chunk<=20µs"]


def test_the_quiet_wait_polls_until_the_cores_go_idle_and_reports_how_busy_they_were() -> None:
    readings, slept = iter([1.5, 0.9, 0.1, 1.9]), []
    load = wait_until_quiet(Quiet(max_busy=0.3, max_wait_seconds=60), lambda: next(readings), slept.append, 5)
    assert load["busy cores"] == 0.1 and load["waited s"] == 10 and slept == [5, 5]
    assert load["load"] >= 0


def test_the_quiet_wait_gives_up_after_its_bound_and_reports_the_busy_cores() -> None:
    slept: list[float] = []
    load = wait_until_quiet(Quiet(max_busy=0.3, max_wait_seconds=12), lambda: 1.7, slept.append, 5)
    assert load["busy cores"] == 1.7 and load["waited s"] == 12 and slept == [5, 5, 2]


def test_busy_cores_sees_this_process_spinning() -> None:
    spinner = threading.Thread(target=_spin, args=(time.monotonic() + 1.5,))
    spinner.start()
    try:
        busy = busy_cores(1.0)
    finally:
        spinner.join()
    assert 0.5 <= busy <= (os.cpu_count() or 1)


def _spin(until: float) -> None:
    while time.monotonic() < until:
        pass


def test_the_column_table_has_one_column_per_figure_and_dashes_for_gaps() -> None:
    rows = [Row("goals", "azure", {"a": 1, "b": None}, "direct"), Row("goals", "azure", {"b": 2.5, "c": "x"}, "uvloop")]
    header, rule, first, second = render_columns(rows).splitlines()
    assert header.split() == ["case", "loop", "a", "b", "c"]
    assert first.split() == ["azure", "direct", "1", "-", "-"]
    assert second.split() == ["azure", "uvloop", "-", "2.5", "x"]
    assert set(rule.replace(" ", "")) == {"-"}


@pytest.mark.parametrize("upstream", ["paced", "emulator"])
def test_a_tiny_run_measures_every_goal_through_the_relay_beside_the_direct_baseline(upstream: str) -> None:
    scale = Scale(
        streams=6, chunks=4, delay_ms=5, opens=4, burst=4, saturation_streams=2, saturation_chunks=20,
        paths=("azure",), loops=("asyncio",), telemetry=False, upstream=upstream,
        quiet=Quiet(max_busy=1e9, max_wait_seconds=0),
    )  # fmt: skip
    direct, relayed = run(scale)
    assert (direct.case, direct.loop, relayed.loop) == ("azure", "direct", "asyncio")
    for row in (direct, relayed):
        assert row.figures["errors"] == 0
        # The first delta comes at once, so four deltas 5 ms apart take at least three delays.
        assert float(row.figures["stream p50 s"]) >= 3 * 5 / 1000  # type: ignore[arg-type]
        assert int(row.figures["saturation chunks/s"]) > 0  # type: ignore[call-overload]
    assert direct.figures["open CPU ms/req"] is None and "missed" not in direct.figures
    assert float(relayed.figures["open CPU ms/req"]) >= 0  # type: ignore[arg-type]
    assert float(relayed.figures["peak RSS MiB"]) > 10  # type: ignore[arg-type]
    assert float(relayed.figures["sat µs/chunk"]) >= 0 and direct.figures["sat µs/chunk"] is None  # type: ignore[arg-type]
    assert relayed.figures["added TTFT ms"] is not None and isinstance(relayed.figures["missed"], str)


def test_an_unknown_upstream_is_refused_by_name_before_anything_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAY_BENCH_UPSTREAM", "emulater")
    with pytest.raises(ValueError, match="RELAY_BENCH_UPSTREAM"):
        Scale.from_env()
    monkeypatch.setenv("RELAY_BENCH_UPSTREAM", "emulator")
    assert Scale.from_env().upstream == "emulator"
