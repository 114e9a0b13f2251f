"""Hypothesis fuzzing of the Responses route on every provider path, streaming and not.

The same oracle as the chat routes (no 5xx, traceback or ERROR log, no case
over ten seconds, OpenAI-style errors), with the Responses shapes: a 200
stream is named events numbered from 0 that end in exactly one of
``response.completed``, ``response.incomplete`` or ``response.failed``, and
a non-streaming 200 is a finished ``response`` object. Bodies are drawn from
``ResponsesRequest``'s schema with valid-looking input items
(:mod:`tests.fuzz.responses_cases`), then mutated as the chat bodies are.
The three Responses paths are spread over the aliases.
"""

from __future__ import annotations

import httpx
import pytest

from tests.fuzz.exchange import Target
from tests.fuzz.run import PROFILE, fuzz
from tests.fuzz.targets import RESPONSES
from tests.fuzz.watch import TracebackWatch

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


@pytest.mark.timeout(PROFILE.timeout_seconds or 0)
@pytest.mark.parametrize("target", RESPONSES, ids=str)
@pytest.mark.usefixtures("healthy_emulators")
def test_fuzzed_responses_requests_never_break_the_relay(
    target: Target, fuzz_http: httpx.Client, traceback_watch: TracebackWatch
) -> None:
    fuzz(target, fuzz_http, traceback_watch)
