"""The three provider emulators are one kind of thing: the :class:`Emulator` protocol and one CLI."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devtools.emulators import azure_openai, bedrock, vertex
from devtools.emulators.cli import emulator_parser
from devtools.emulators.emulator import Emulator
from devtools.emulators.recorder import Recorder
from devtools.emulators.scenario import ScenarioBook
from devtools.ports import EMULATOR_PORTS

FACTORIES: list[Callable[[], object]] = [azure_openai.create_app, bedrock.create_app, vertex.create_app]


@pytest.mark.parametrize("create_app", FACTORIES, ids=["azure_openai", "bedrock", "vertex"])
def test_every_emulator_is_an_emulator(create_app: Callable[[], object]) -> None:
    emulator = create_app()
    assert isinstance(emulator, Emulator)
    assert isinstance(emulator.book, ScenarioBook)
    assert isinstance(emulator.recorder, Recorder)
    assert emulator.url == ""


def test_the_common_options_parse_a_default_scenario_and_where_to_listen() -> None:
    args = emulator_parser("demo", "bedrock").parse_args(["--scenario", '{"text": "hi"}', "--host", "0.0.0.0"])
    expected = ("0.0.0.0", EMULATOR_PORTS["bedrock"], '{"text": "hi"}', "warning")
    assert (args.host, args.port, args.scenario, args.log_level) == expected


def test_an_emulator_adds_its_own_options_to_the_common_ones() -> None:
    args = vertex.build_parser().parse_args(["--port", "9000", "--accept-any-token"])
    assert (args.port, args.accept_any_token, args.log_level) == (9000, True, "info")
