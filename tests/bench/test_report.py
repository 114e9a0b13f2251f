"""The printed table says which event loop the relay ran on, so two runs of one case are told apart."""

from __future__ import annotations

from bench.report import Row, render


def test_each_row_names_its_loop_in_its_own_column() -> None:
    rows = [
        Row("azure_concurrency", "direct to emulator", {"ok": 500}),
        Row("azure_concurrency", "through relay", {"ok": 499}, "asyncio"),
        Row("azure_concurrency", "through relay", {"ok": 498}, "uvloop"),
    ]
    header, _, *lines = render(rows).splitlines()
    assert header.split()[:3] == ["bench", "loop", "case"]
    assert [line.split()[1] for line in lines] == ["-", "asyncio", "uvloop"]
    assert [line.split()[-1] for line in lines] == ["ok=500", "ok=499", "ok=498"]
