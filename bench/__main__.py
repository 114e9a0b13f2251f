"""``make bench``: run every benchmark and print one table.

``python -m bench ttfb`` runs only the named benchmarks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from . import (
    azure_concurrency,
    bedrock_concurrency,
    bedrock_designs,
    resumable_cost,
    routing_simulation,
    telemetry_cost,
    ttfb,
    vertex_concurrency,
)
from .report import Row, render

BENCHMARKS: dict[str, Callable[[], list[Row]]] = {
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
    print(render(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
