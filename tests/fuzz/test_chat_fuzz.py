"""Hypothesis fuzzing of both chat dialects on every provider path, against healthy emulators.

Each route and provider path gets the profile's share of generated cases
plus issue 10's known regressions. No case may get a 5xx, log a traceback or
an ERROR, cut a 200 stream short of exactly one terminal frame, or take over
ten seconds. Failures are tallied by cause rather than raised one by one, so
a run reports every distinct defect it met (with the smallest example of
each) and a long run keeps going to its full count.
"""

from __future__ import annotations

import httpx
import pytest

from tests.fuzz.exchange import Target
from tests.fuzz.run import PROFILE, fuzz
from tests.fuzz.targets import CHAT
from tests.fuzz.watch import TracebackWatch

# Hypothesis warns when it prints a strategy as large as the request grammar; that is not a defect.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


@pytest.mark.timeout(PROFILE.timeout_seconds or 0)
@pytest.mark.parametrize("target", CHAT, ids=str)
@pytest.mark.usefixtures("healthy_emulators")
def test_fuzzed_requests_never_break_the_relay(
    target: Target, fuzz_http: httpx.Client, traceback_watch: TracebackWatch
) -> None:
    fuzz(target, fuzz_http, traceback_watch)
