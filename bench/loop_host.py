"""The local host on a chosen event loop, for benchmarks: ``python -m bench.loop_host --loop asyncio``.

In Azure the Functions worker owns the event loop, not the app: the Python
3.11 and 3.12 workers run the standard library's asyncio loop, the 3.13
worker installs uvloop. uvicorn, and so ``make serve``, picks uvloop whenever
it is installed, so without a choice every figure would be uvloop's.
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from devtools.local_host import create_host, server_config

# uvicorn's names for them; the first is what production runs under the 3.11 and 3.12 workers.
LOOPS = ("asyncio", "uvloop")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=LOOPS, required=True)
    args = parser.parse_args(argv)
    # As ``make serve`` logs, so a benchmark pays for the same per-request records.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = server_config(create_host(), "127.0.0.1", args.port)
    config.loop = args.loop
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
