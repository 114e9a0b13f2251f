"""One relay per provider path for the whole matrix, with a backend, an alias and a client key per cell.

Starting a relay per cell would cost more than the cells themselves. Giving
each cell its own backend, alias and relay key keeps the cells independent all
the same: the router's memory is per backend and the quota ledger per key, so
one cell's cooldown, open circuit or leaked slot cannot leak into another's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from shared.auth.relay_keys import hash_key
from tests.builders import RelayServer, host_relay
from tests.shared.fault_matrix.matrix_cases import FAULTS, RELAY_SETTINGS, Fault, ProviderPath
from tests.shared.fault_matrix.matrix_wire import DIALECTS, Dialect


@dataclass(frozen=True)
class Cell:
    """Where one cell of the matrix sends its request, and whose state it reads afterwards."""

    server: RelayServer
    name: str
    key: str

    @property
    def subject(self) -> str:
        """The quota subject of the cell's relay key."""
        return f"key:{self.name}"


def cell_name(dialect: Dialect, fault: Fault) -> str:
    return f"{fault.id}-{dialect.id}".replace("_", "-")


def cell_key(name: str) -> str:
    return "rk-matrix-" + hashlib.sha256(name.encode()).hexdigest()[:16]


def path_config(path: ProviderPath, emulator_url: str) -> dict[str, Any]:
    """Every cell's backend on the path's emulator, each behind an alias and a key of its own."""
    names = [cell_name(dialect, fault) for dialect in DIALECTS for fault in FAULTS]
    keys = [{"name": name, "sha256": hash_key(cell_key(name)), "models": [name]} for name in names]
    return {
        "backends": [path.backend(name, emulator_url) for name in names],
        "models": {name: [name] for name in names},
        "auth": {"relay_keys": keys},
        **RELAY_SETTINGS,
    }


class MatrixRelays:
    """Relays started on first use, one per provider path, stopped when the module ends."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request
        self._servers: dict[str, RelayServer] = {}

    def cell(self, path: ProviderPath, dialect: Dialect, fault: Fault) -> Cell:
        if path.id not in self._servers:
            emulator = self._request.getfixturevalue(f"{path.emulator_fixture}_emulator")
            self._servers[path.id] = host_relay(path_config(path, emulator.url), path.environ(emulator.url))
        name = cell_name(dialect, fault)
        return Cell(self._servers[path.id], name, cell_key(name))

    def stop(self) -> None:
        for server in self._servers.values():
            server.stop()


@pytest.fixture(scope="module")
def matrix_relays(request: pytest.FixtureRequest) -> Iterator[MatrixRelays]:
    relays = MatrixRelays(request)
    yield relays
    relays.stop()
