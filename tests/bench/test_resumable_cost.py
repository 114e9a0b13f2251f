"""The resumable-cost benchmark runs end to end on a tiny load and counts the storage operations it caused."""

from __future__ import annotations

import pytest

from bench.concurrency import WARM_UP_STREAMS, Shape
from bench.resumable_cost import run

pytestmark = pytest.mark.timeout(180)


def test_both_rows_stream_every_delta_and_only_the_resumable_one_touches_storage() -> None:
    shape = Shape(concurrency=4, chunks=10, delay_ms=20)
    plain, resumable, difference = run(shape)
    for row in (plain, resumable):
        assert row.figures["ok"] == 4 and row.figures["errors"] == 0
        assert row.figures["chunks"] == 40
    assert "storage ops" not in plain.figures
    streams = shape.concurrency + WARM_UP_STREAMS
    operations = resumable.figures["storage ops"]
    assert isinstance(operations, int)
    assert 2 * streams <= operations <= 20 * streams  # a record and a few batches each, not one per delta
    assert difference.case == "resumable vs plain" and "change %" in difference.figures
