"""The azd preprovision hook mints a key the relay accepts, records only its digest and shows the key once."""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Sequence
from types import ModuleType

from shared.auth.relay_keys import KeyRing, hash_key
from shared.auth.settings import RelayKey
from tests.infra.bicep import INFRA


def load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("relay_key_hook", INFRA / "hooks" / "relay_key.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Azd:
    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> None:
        self.commands.append(list(command))


def test_first_provision_records_the_digest_and_prints_the_key_once() -> None:
    azd, out = Azd(), io.StringIO()
    assert load_hook().main({}, azd, out) == 0
    ((*verb, name, digest),) = azd.commands
    assert (verb, name) == (["azd", "env", "set"], "RELAY_KEY_SHA256")
    keys = [word for word in out.getvalue().split() if word.startswith("rk-")]
    assert len(keys) == 1, "the key must be printed exactly once"
    assert hash_key(keys[0]) == digest
    assert keys[0] not in " ".join(" ".join(command) for command in azd.commands)


def test_the_minted_key_is_admitted_by_the_relay() -> None:
    azd, out = Azd(), io.StringIO()
    load_hook().main({}, azd, out)
    key = next(word for word in out.getvalue().split() if word.startswith("rk-"))
    ring = KeyRing([RelayKey(name="azd", sha256=azd.commands[0][-1], models=["*"])])
    identity = ring.identify(key)
    assert identity is not None
    assert ring.identify(key + "x") is None


def test_a_later_provision_keeps_the_existing_key() -> None:
    azd, out = Azd(), io.StringIO()
    assert load_hook().main({"RELAY_KEY_SHA256": "a" * 64}, azd, out) == 0
    assert azd.commands == []
    assert "rk-" not in out.getvalue()


def test_each_environment_gets_a_different_key() -> None:
    first, second = Azd(), Azd()
    load_hook().main({}, first, io.StringIO())
    load_hook().main({}, second, io.StringIO())
    assert first.commands[0][-1] != second.commands[0][-1]
