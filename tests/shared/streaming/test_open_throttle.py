"""The open throttle: a few opens per event-loop turn, the rest in arrival order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from shared.streaming.open_throttle import OpenThrottle

pytestmark = pytest.mark.anyio


def turn_counter() -> Callable[[], int]:
    """A clock that counts event-loop turns, by a callback that reschedules itself every turn."""
    loop = asyncio.get_running_loop()
    turns = [0]

    def tick() -> None:
        turns[0] += 1
        loop.call_soon(tick)

    loop.call_soon(tick)
    return lambda: turns[0]


async def test_a_burst_is_spread_over_turns_in_arrival_order() -> None:
    gate, turn = OpenThrottle(per_turn=3), turn_counter()
    admitted: list[tuple[int, int]] = []

    async def open_one(n: int) -> None:
        await gate.wait_turn()
        admitted.append((n, turn()))

    await asyncio.gather(*(open_one(n) for n in range(8)))
    assert [n for n, _ in admitted] == list(range(8))
    per_turn: dict[int, int] = {}
    for _, at in admitted:
        per_turn[at] = per_turn.get(at, 0) + 1
    assert max(per_turn.values()) <= 3 and len(per_turn) >= 3


async def test_requests_at_an_ordinary_rate_pass_straight_through() -> None:
    gate = OpenThrottle(per_turn=2)
    for _ in range(5):
        admitted = asyncio.ensure_future(gate.wait_turn())
        await asyncio.sleep(0)  # one turn: the gate must not hold a lone caller
        assert admitted.done()
        await asyncio.sleep(0.001)


async def test_a_caller_cancelled_while_waiting_frees_its_place() -> None:
    gate = OpenThrottle(per_turn=1)
    callers = [asyncio.ensure_future(gate.wait_turn()) for _ in range(4)]
    await asyncio.sleep(0)  # the first is through; the others wait for later turns
    assert callers[0].done() and not any(caller.done() for caller in callers[1:])
    callers[1].cancel()
    _, pending = await asyncio.wait(callers[2:], timeout=1)
    assert not pending and callers[1].cancelled()


def test_a_gate_outlives_its_event_loop() -> None:
    gate = OpenThrottle(per_turn=1)

    async def burst() -> None:
        await asyncio.gather(*(gate.wait_turn() for _ in range(3)))

    asyncio.run(burst())
    asyncio.run(asyncio.wait_for(burst(), timeout=1))
