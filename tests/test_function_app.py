"""``function_app.py`` imports and indexes as the Python worker would index it.

The worker imports the script, takes its one ``func.FunctionApp`` and sends
the host each function's name and raw bindings; a function missing there is a
function the host never serves. ``make test-pythons`` runs this module on every
supported Python, where a dependency that fails to import shows up first.
"""

from __future__ import annotations

import ast
import json
from typing import Any

import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.local_host import APP_ROOT, function_app_of, host_order, import_app_module, route_prefix
from shared.route_table import ROUTE_PREFIX
from tests.builders import TEST_AUTH, patched_environ, single_azure_config

SCRIPT = APP_ROOT / "function_app.py"


@pytest.fixture(scope="module")
def app_module(azure_emulator: AzureOpenAIEmulator) -> Any:
    """The real ``function_app.py``, imported once like a starting worker does."""
    config = {"auth": TEST_AUTH, **single_azure_config(azure_emulator)}
    with patched_environ({"RELAY_CONFIG": json.dumps(config), "AZURE_TEST_KEY": "unused-at-import"}):
        return import_app_module(SCRIPT)


@pytest.fixture(scope="module")
def functions(app_module: Any) -> list[Any]:
    """The real app's functions, indexed once like a starting worker does.

    Once only: ``get_functions()`` registers the names it returns, and a second
    call on the same app refuses them as duplicates.
    """
    return list(function_app_of(app_module).get_functions())


def decorated_routes() -> set[str]:
    """Names of the functions ``function_app.py`` decorates with ``@app.route``, read from its source."""
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
        and any(isinstance(d, ast.Call) and ast.unparse(d.func) == "app.route" for d in node.decorator_list)
    }


def raw_bindings(function: Any) -> list[dict[str, Any]]:
    """The bindings as the worker sends them to the host: one JSON document each."""
    return [json.loads(binding) for binding in function.get_raw_bindings()]


def test_every_decorated_route_is_an_indexed_function(functions: list[Any]) -> None:
    indexed = [function.get_function_name() for function in functions]
    assert len(indexed) == len(set(indexed)), f"duplicate function names: {indexed}"
    assert set(indexed) == decorated_routes()


def test_every_function_has_an_http_trigger_and_an_http_return(functions: list[Any]) -> None:
    for function in functions:
        bindings = raw_bindings(function)
        triggers = [b for b in bindings if b["type"] == "httpTrigger" and b["direction"] == "IN"]
        outputs = [b for b in bindings if b["type"] == "http" and b["direction"] == "OUT"]
        assert len(triggers) == 1, (function.get_function_name(), bindings)
        assert [b["name"] for b in outputs] == ["$return"], (function.get_function_name(), bindings)
        assert triggers[0]["route"] and triggers[0]["methods"], bindings
        assert triggers[0]["authLevel"] == "ANONYMOUS", bindings


def test_the_function_documents_the_worker_sends_are_json(functions: list[Any]) -> None:
    for function in functions:
        document = json.loads(function.get_function_json())
        assert document["scriptFile"] == SCRIPT.name
        assert document["bindings"] == raw_bindings(function)


def http_trigger(function: Any) -> dict[str, Any]:
    return next(b for b in raw_bindings(function) if b["type"] == "httpTrigger")


def test_no_catch_all_comes_before_a_route_it_would_shadow(functions: list[Any]) -> None:
    """The host tries routes in function-name order (``devtools.local_host.host_order``), the first match winning."""
    ordered = host_order(functions)
    for position, function in enumerate(ordered):
        trigger = http_trigger(function)
        if "{*" not in trigger["route"]:
            continue
        for later in ordered[position + 1 :]:
            shadowed = set(trigger["methods"]) & set(http_trigger(later)["methods"])
            assert not shadowed, f"{function.get_function_name()} would take {later.get_function_name()}'s requests"


def test_the_route_table_is_what_the_worker_indexes(functions: list[Any], app_module: Any) -> None:
    indexed = {(http_trigger(f)["route"], tuple(m.upper() for m in http_trigger(f)["methods"])) for f in functions}
    assert {(route.template, route.methods) for route in app_module.app.table.routes} == indexed
    assert route_prefix(APP_ROOT / "host.json") == ROUTE_PREFIX
