"""The fault matrix's assertions, each returning a one-line problem instead of raising.

A cell runs every check and fails once with all its problems joined, so the
matrix report says everything that went wrong in a cell, not only the first.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx

from devtools.emulators.recorder import Recorder
from tests.builders import RelayServer
from tests.polling import wait_for
from tests.shared.fault_matrix.matrix_cases import TEXT, Ending, Fault, Router
from tests.shared.fault_matrix.matrix_wire import Exchange

SETTLE_SECONDS = 2.0
COOLDOWN_TOLERANCE_SECONDS = 5.0

Problems = list[str]


def leases_in_use(server: RelayServer, subject: str) -> int:
    """Concurrency slots ``subject`` holds in the relay's quota ledger right now."""
    store = server.relay.access.limiter.store  # type: ignore[attr-defined]
    assert server.loop is not None
    ledger = asyncio.run_coroutine_threadsafe(store.read(subject), server.loop).result(timeout=10)
    return len(ledger.leases)


def check_ending(fault: Fault, seen: Exchange) -> Problems:
    """The client got what the fault calls for: the right JSON error, or one terminal frame after clean text."""
    if fault.ending is Ending.JSON_ERROR:
        return _json_error_problems(fault, seen)
    if seen.status != 200:
        return [f"status {seen.status} before the stream ({_error_code(seen)}), expected a 200 stream"]
    problems = _text_problems(fault, seen.text)
    if fault.ending is Ending.CLIENT_LEAVES:
        return problems
    if seen.cut is not None:
        problems.append(f"connection cut without a terminal frame ({seen.cut.split(':')[0]})")
    if len(seen.terminals) != 1:
        problems.append(f"{len(seen.terminals)} terminal frames {seen.terminals}, expected exactly 1")
    elif not seen.last_is_terminal:
        problems.append("frames after the terminal frame")
    if fault.ending is Ending.STREAM_ERROR and seen.terminals and not seen.terminals[-1].startswith("error"):
        problems.append(f"terminal frame is {seen.terminals[-1]!r}, expected an error")
    return problems


def _json_error_problems(fault: Fault, seen: Exchange) -> Problems:
    if seen.status == 200:
        return [f"200 stream ({len(seen.terminals)} terminal frames), expected a JSON error {sorted(fault.statuses)}"]
    problems = []
    if seen.status not in fault.statuses:
        problems.append(f"status {seen.status}, expected one of {sorted(fault.statuses)}")
    if not seen.headers.get("content-type", "").startswith("application/json") or seen.error is None:
        problems.append(f"not an OpenAI-style JSON error: {seen.raw[:80]!r}")
    elif not (isinstance(seen.error.get("message"), str) and seen.error.get("code")):
        problems.append("JSON error without message and code")
    if 429 in fault.statuses and "retry-after" not in seen.headers:
        problems.append("429 without Retry-After")
    return problems


def _error_code(seen: Exchange) -> str:
    return str(seen.error.get("code")) if seen.error else "no JSON error"


def _text_problems(fault: Fault, text: str) -> Problems:
    if not TEXT.startswith(text):
        return [f"text is not a prefix of the upstream's (duplicated or garbled): {text[:60]!r}"]
    if not text:
        return ["no text reached the client before the fault"]
    if fault.ending is Ending.STREAM_DONE and text != TEXT:
        return [f"text stops short: {len(text)} of {len(TEXT)} characters"]
    return []


def check_router(fault: Fault, relay_url: str, backend: str) -> Problems:
    """``/api/health`` shows what the fault taught the router (polled: the relay settles after the client)."""
    entry: dict[str, Any] = {}

    def settled() -> bool:
        entry.clear()
        entry.update(backend_health(relay_url, backend))
        return _router_problem(fault, entry) is None

    wait_for(settled, seconds=SETTLE_SECONDS)
    problem = _router_problem(fault, entry)
    return [] if problem is None else [problem]


def backend_health(relay_url: str, backend: str) -> dict[str, Any]:
    health = httpx.get(f"{relay_url}/api/health", timeout=10).json()
    return next(entry for entry in health["backends"] if entry["name"] == backend)  # type: ignore[no-any-return]


def _router_problem(fault: Fault, entry: dict[str, Any]) -> str | None:
    state, failures = entry.get("state"), entry.get("consecutive_failures", 0)
    shown = f"router: {state}, consecutive_failures {failures}; expected {fault.router.value}"
    match fault.router:
        case Router.COOLING_DOWN:
            if state != "cooling_down" or failures:
                return shown
            return _cooldown_problem(fault, entry)
        case Router.FAILURE_COUNTED:
            return None if (state, failures) == ("healthy", 1) else shown
        case Router.CLEAN:
            return None if (state, failures) == ("healthy", 0) else shown
        case Router.SETTLED:
            return None if state == "healthy" else shown
    return shown


def _cooldown_problem(fault: Fault, entry: dict[str, Any]) -> str | None:
    assert fault.cooldown_seconds is not None
    left = (datetime.fromisoformat(entry["until"]) - datetime.now(UTC)).total_seconds()
    if abs(left - fault.cooldown_seconds) > COOLDOWN_TOLERANCE_SECONDS:
        return f"router: cooldown of {left:.0f} s, expected about {fault.cooldown_seconds:.0f} s"
    return None


def check_quota(server: RelayServer, subject: str) -> Problems:
    """Every ``concurrent_streams`` slot the request took is back (polled, like the router)."""
    if wait_for(lambda: leases_in_use(server, subject) == 0, seconds=SETTLE_SECONDS):
        return []
    return [f"quota: {leases_in_use(server, subject)} concurrent_streams slot(s) still held"]


def check_upstream_closed(recorder: Recorder) -> Problems:
    """After the client left, the relay hung up on the upstream too."""
    if wait_for(lambda: recorder.records and recorder.records[-1].client_disconnected, seconds=SETTLE_SECONDS):
        return []
    return ["upstream still open after the client left"]


def check_one_upstream_call(recorder: Recorder) -> Problems:
    """The cell's only backend was called once: the relay never retried it behind the client's back."""
    calls = len(recorder.records)
    return [] if calls == 1 else [f"upstream called {calls} times, expected once"]
