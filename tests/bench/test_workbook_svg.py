"""The README's workbook picture sums a run the way the workbook's queries sum telemetry, and is valid SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from bench.workbook_svg import per_bin, render, router_states, token_totals, too_many


def request(t: float, **fields: Any) -> dict[str, Any]:
    usage = {"prompt_tokens": 10, "completion_tokens": 3}
    base = {"t": t, "key": "web", "alias": "gpt", "backend": "east", "status": 200, "attempts": 1, "ttft_ms": 50.0}
    return {**base, "usage": usage, **fields}


REQUESTS = [
    request(0.5),
    request(1.0, key="batch", backend="west", attempts=2, ttft_ms=150.0),
    request(3.2, alias="mini", status=429, attempts=0, ttft_ms=None, usage=None, backend=None),
]
UPSTREAM = [{"t": 0.9, "backend": "east", "status": 429}, {"t": 1.0, "backend": "west", "status": 200}]
HEALTH = [(0.0, {"east": "healthy"}), (1.0, {"east": "cooling_down"}), (2.5, {"east": "circuit_open"})]


def test_counts_fall_in_two_second_bins() -> None:
    assert per_bin([(0.5, "a", 1), (1.9, "a", 2), (2.0, "b", 1), (9.0, "a", 1)], 3) == {
        "a": [3.0, 0.0, 1.0],
        "b": [0.0, 1.0, 0.0],
    }


def test_429s_are_split_between_upstreams_and_the_relay_itself() -> None:
    assert sorted(too_many(REQUESTS, UPSTREAM)) == [(0.9, "upstream east", 1.0), (3.2, "relay to client", 1.0)]


def test_tokens_are_summed_per_key_input_then_output_skipping_requests_without_usage() -> None:
    assert token_totals(REQUESTS, "key") == {"batch": (10, 3), "web": (10, 3)}
    assert token_totals(REQUESTS, "alias") == {"gpt": (20, 6)}


def test_router_states_mark_each_bin_a_backend_spent_any_sample_in() -> None:
    assert router_states(HEALTH, 2) == {"east circuit open": [0.0, 1.0], "east cooling down": [1.0, 0.0]}


def test_the_picture_is_svg_that_says_it_is_a_local_rendering_and_shows_each_backend() -> None:
    picture = render(REQUESTS, UPSTREAM, HEALTH)
    root = ET.fromstring(picture)
    texts = [element.text or "" for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any("rendered from a local run" in text for text in texts)
    assert any("Not a screenshot of Azure" in text for text in texts)
    assert {"east", "west", "50", "150"} <= set(texts), "each backend with its p50 in the table"
    assert "429 to client" in texts and "upstream east" in texts
