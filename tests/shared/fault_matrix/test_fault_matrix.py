"""Every upstream fault, on every provider path, through both chat dialects (issue 10).

Each cell has a backend, an alias and a relay key of its own (see the local
conftest), scripts its fault inline, sends one request and checks, all at
once: what the client got (one terminal frame, or the right JSON error before
the stream), that no text was duplicated, what ``/api/health`` says about the
backend, that the backend was called once, and that the ``concurrent_streams``
slot was given back.
"""

from __future__ import annotations

import pytest

from devtools.emulators.scenario import inline_prompt
from tests.shared.fault_matrix.conftest import MatrixRelays
from tests.shared.fault_matrix.matrix_cases import FAULTS, PATHS, Ending, Fault, ProviderPath, scenario_of
from tests.shared.fault_matrix.matrix_checks import (
    check_ending,
    check_one_upstream_call,
    check_quota,
    check_router,
    check_upstream_closed,
    leases_in_use,
)
from tests.shared.fault_matrix.matrix_wire import DIALECTS, Dialect, exchange

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.id)
@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.id)
@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.id)
def test_upstream_fault(
    request: pytest.FixtureRequest, matrix_relays: MatrixRelays, path: ProviderPath, dialect: Dialect, fault: Fault
) -> None:
    emulator = request.getfixturevalue(path.emulator_fixture)  # reset for this test
    cell = matrix_relays.cell(path, dialect, fault)
    held_mid_stream: list[int] = []

    def leave_once_text_arrives(text: str) -> bool:
        if text and not held_mid_stream:
            held_mid_stream.append(leases_in_use(cell.server, cell.subject))
        return bool(text)

    leaving = fault.ending is Ending.CLIENT_LEAVES
    prompt = inline_prompt(**scenario_of(fault))
    seen = exchange(cell.server.url, cell.key, dialect, cell.name, prompt, leave_once_text_arrives if leaving else None)
    problems = check_ending(fault, seen) + check_one_upstream_call(emulator.recorder)
    if leaving:
        problems += check_upstream_closed(emulator.recorder)
        if held_mid_stream != [1]:
            problems.append(f"quota: {held_mid_stream} slots held mid-stream, expected [1]")
    problems += check_router(fault, cell.server.url, cell.name)
    problems += check_quota(cell.server, cell.subject)
    assert not problems, "; ".join(problems)
