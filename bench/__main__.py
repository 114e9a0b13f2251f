"""``make bench``: run every benchmark and print its tables.

The goals benchmark (issue 16's figures, :mod:`.goals`) comes first and gets
a table of its own, one column per goal; the others share a ``name=value``
table. ``python -m bench goals`` runs only the named benchmarks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from . import (
    azure_concurrency,
    bedrock_concurrency,
    bedrock_designs,
    goals,
    resumable_cost,
    routing_simulation,
    telemetry_cost,
    ttfb,
    vertex_concurrency,
)
from .report import Row, render, render_columns

BENCHMARKS: dict[str, Callable[[], list[Row]]] = {
    "goals": goals.run,
    "ttfb": ttfb.run,
    "routing": routing_simulation.rows,
    "bedrock_concurrency": bedrock_concurrency.run,
    "bedrock_designs": bedrock_designs.run,
    "vertex_concurrency": vertex_concurrency.run,
    "azure_concurrency": azure_concurrency.run,
    "telemetry": telemetry_cost.run,
    "resumable": resumable_cost.run,
}


def main(names: list[str]) -> None:
    chosen = names or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    rows: list[Row] = []
    for name in chosen:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += BENCHMARKS[name]()
    goal_rows = [row for row in rows if row.bench == goals.BENCH]
    other_rows = [row for row in rows if row.bench != goals.BENCH]
    if goal_rows:
        print(goals.heading(goals.Scale.from_env()))
        print(render_columns(goal_rows))
    if other_rows:
        print(render(other_rows))


if __name__ == "__main__":
    main(sys.argv[1:])
