"""Hypothesis fuzzing of both chat dialects on every provider path, against healthy emulators.

Each route and provider path gets the profile's number of generated cases
plus issue 10's known regressions. No case may get a 5xx, log a traceback or
an ERROR, cut a 200 stream short of exactly one terminal frame, or take over
ten seconds. Failures are tallied by cause rather than raised one by one, so
a run reports every distinct defect it met (with the smallest example of
each) and a long run keeps going to its full count.
"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import example, given

from tests.builders import RELAY_TEST_KEY
from tests.fuzz import profiles
from tests.fuzz.cases import cases, known_regressions
from tests.fuzz.exchange import Case, Target, exchange
from tests.fuzz.tally import TALLY, report
from tests.fuzz.watch import TracebackWatch

ALIASES = ["azure", "bedrock", "vertex", "vertex-native"]
TARGETS = [
    *(Target("/api/v1/chat/completions", alias, stream=True) for alias in ALIASES),
    *(Target("/api/v1/chat/completions", alias, stream=False) for alias in ALIASES),
    *(Target("/api/chat", alias) for alias in ALIASES),
]
PROFILE = profiles.current(len(TARGETS))
# Hypothesis warns when it prints a strategy as large as the request grammar; that is not a defect.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


@pytest.mark.timeout(PROFILE.timeout_seconds or 0)
@pytest.mark.parametrize("target", TARGETS, ids=str)
@pytest.mark.usefixtures("healthy_emulators")
def test_fuzzed_requests_never_break_the_relay(
    target: Target, fuzz_http: httpx.Client, traceback_watch: TracebackWatch
) -> None:
    def send(case: Case) -> None:
        TALLY.add(target, case, exchange(fuzz_http, target, case, RELAY_TEST_KEY, traceback_watch), RELAY_TEST_KEY)

    for regression in known_regressions(target.dialect, RELAY_TEST_KEY):
        send = example(case=regression)(send)
    PROFILE.settings()(given(case=cases(target.dialect, RELAY_TEST_KEY))(send))()

    failures = TALLY.failures_of(target)
    assert not failures, "\n".join(report(failure) for failure in failures)
