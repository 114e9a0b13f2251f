"""Headroom readings from rate-limit headers."""

from __future__ import annotations

import pytest

from shared.routing.headroom import Headroom, has_room, read_headroom, spend_request
from shared.routing.settings import HeadroomSettings

SETTINGS = HeadroomSettings(reserve_requests=1, reserve_tokens=1000, max_age_seconds=10)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"x-ratelimit-remaining-requests": "nope"}, None),
        ({"x-ratelimit-remaining-requests": "42"}, Headroom(42, None, 110)),
        ({"X-RateLimit-Remaining-Tokens": "9000"}, Headroom(None, 9000, 110)),
        (
            {
                "x-ratelimit-remaining-requests": "5",
                "x-ratelimit-remaining-tokens": "700",
                "x-ratelimit-reset-requests": "2s",
            },
            Headroom(5, 700, 102),
        ),
        ({"x-ratelimit-remaining-requests": "5", "x-ratelimit-reset-tokens": "1m"}, Headroom(5, None, 110)),
        ({"x-ratelimit-remaining-requests": "-3"}, Headroom(0, None, 110)),
    ],
)
def test_read_headroom(headers: dict[str, str], expected: Headroom | None) -> None:
    assert read_headroom(headers, 100, SETTINGS) == expected


@pytest.mark.parametrize(
    ("headroom", "now", "expected"),
    [
        (None, 0, True),
        (Headroom(2, None, 10), 0, True),
        (Headroom(1, None, 10), 0, False),
        (Headroom(0, None, 10), 9.9, False),
        (Headroom(0, None, 10), 10, True),  # an expired reading is not trusted
        (Headroom(None, 1001, 10), 0, True),
        (Headroom(None, 1000, 10), 0, False),
        (Headroom(50, 10, 10), 0, False),
    ],
)
def test_has_room(headroom: Headroom | None, now: float, expected: bool) -> None:
    assert has_room(headroom, now, SETTINGS) is expected


@pytest.mark.parametrize(
    ("headroom", "expected"),
    [
        (None, None),
        (Headroom(None, 5, 1), Headroom(None, 5, 1)),
        (Headroom(3, 5, 1), Headroom(2, 5, 1)),
        (Headroom(0, None, 1), Headroom(0, None, 1)),
    ],
)
def test_spend_request(headroom: Headroom | None, expected: Headroom | None) -> None:
    assert spend_request(headroom) == expected
