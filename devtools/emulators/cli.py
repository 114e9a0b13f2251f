"""The one command line every emulator shares: ``python -m devtools.emulators.<name> --port N``.

Each emulator module only names itself, adds its own options, and says how
to build its app from the parsed arguments; parsing the common options,
reading the default scenario and running uvicorn happen here once.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence

from ..ports import EMULATOR_PORTS
from .emulator import Emulator
from .scenario import Scenario, parse_scenario

Build = Callable[[argparse.Namespace, Scenario | None], Emulator]


def emulator_parser(description: str, name: str, log_level: str = "warning") -> argparse.ArgumentParser:
    """The common options: where to listen, the default scenario, uvicorn's log level.

    The default port is ``name``'s in :data:`devtools.ports.EMULATOR_PORTS`.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=EMULATOR_PORTS[name])
    parser.add_argument("--scenario", default=None, help="the default scenario, as a JSON object")
    parser.add_argument("--log-level", default=log_level)
    return parser


def run_emulator(parser: argparse.ArgumentParser, build: Build, argv: Sequence[str] | None = None) -> None:
    """Parse ``argv``, build the emulator and serve it with uvicorn until interrupted."""
    import uvicorn

    args = parser.parse_args(argv)
    default = parse_scenario(json.loads(args.scenario)) if args.scenario else None
    app = build(args, default)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, lifespan="off")
