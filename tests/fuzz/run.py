"""One target's fuzz run: its known regressions as ``@example``s, then the profile's generated cases.

Shared by the chat and Responses test modules, which differ only in their
targets; the profile is sized from every target (:mod:`tests.fuzz.targets`).
"""

from __future__ import annotations

import httpx
from hypothesis import example, given

from tests.builders import RELAY_TEST_KEY
from tests.fuzz import profiles
from tests.fuzz.cases import cases, known_regressions
from tests.fuzz.exchange import Case, Target, exchange
from tests.fuzz.tally import TALLY, report
from tests.fuzz.targets import ALL
from tests.fuzz.watch import TracebackWatch

PROFILE = profiles.current(len(ALL))


def fuzz(target: Target, http: httpx.Client, watch: TracebackWatch) -> None:
    """Send every case to ``target``, then fail with each distinct cause the tally met there."""

    def send(case: Case) -> None:
        TALLY.add(target, case, exchange(http, target, case, RELAY_TEST_KEY, watch), RELAY_TEST_KEY)

    for regression in known_regressions(target.dialect, RELAY_TEST_KEY):
        send = example(case=regression)(send)
    PROFILE.settings()(given(case=cases(target.dialect, RELAY_TEST_KEY))(send))()

    failures = TALLY.failures_of(target)
    assert not failures, "\n".join(report(failure) for failure in failures)
