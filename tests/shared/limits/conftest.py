"""Fixtures for the quota tests."""

from __future__ import annotations

import time

import pytest

from shared.limits.ledger import WINDOW_SECONDS

# More than any test that counts requests takes; a test starting later in a window waits for the next.
WINDOW_MARGIN_SECONDS = 10.0


@pytest.fixture
def one_rate_window() -> float:
    """Start the test early enough in a requests-per-minute window that it ends in the same one.

    Rate limits count in fixed windows of the real clock, so a relay under test
    forgets its count when a window turns over. A test that expects the third
    request of a minute to be refused would pass that request if the minute
    ended between the second and the third. Returns the seconds left in the window.
    """
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < WINDOW_MARGIN_SECONDS:
        time.sleep(left + 0.05)
        left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    return left
