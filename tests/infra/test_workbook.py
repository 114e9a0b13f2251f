"""The operator's workbook: valid JSON the portal accepts, queries that use only the relay's telemetry names, deployed.

The names the relay emits (metric names and attribute keys) are written once,
as the workbook's hidden text parameters; every query reaches them through
``{Parameter}``, so a renamed metric is one edit in one place.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from shared.telemetry import conventions
from tests.infra.bicep import INFRA, parse

WORKBOOK = INFRA / "workbook" / "relay-workbook.json"
PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9]*)(?::[a-z]+)?\}")
# A quoted dotted lower-case name (gen_ai.x, relay.y) written straight into a query bypasses the one list.
LITERAL_NAME = re.compile(r"""["'][a-z_]+(?:\.[a-z_]+)+["']""")
TABLES = {"customMetrics", "requests", "dependencies"}
PANELS = [
    "ttft-by-backend",
    "tokens-by-alias",
    "tokens-by-client",
    "outcomes-over-time",
    "429s-over-time",
    "failovers-over-time",
    "circuits-over-time",
]


@cache
def workbook() -> dict[str, Any]:
    return dict(json.loads(WORKBOOK.read_text(encoding="utf-8")))


def parameters() -> dict[str, dict[str, Any]]:
    (step,) = [item for item in workbook()["items"] if item["type"] == 9]
    return {param["name"]: param for param in step["content"]["parameters"]}


def telemetry_names() -> dict[str, str]:
    """The one list: each hidden text parameter and the metric or attribute name it holds."""
    return {name: param["value"] for name, param in parameters().items() if param["type"] == 1}


def queries() -> dict[str, str]:
    return {item["name"]: item["content"]["query"] for item in workbook()["items"] if item["type"] == 3}


def dotted(expr: Any) -> str:
    """``a.b.c`` from pycep's nested property accessors."""
    if isinstance(expr, str):
        return expr
    operands = expr["operator"]["operands"]
    return f"{dotted(operands['operand_1'])}.{dotted(operands['operand_2'])}"


def test_the_workbook_is_a_workbook_document() -> None:
    document = workbook()
    assert document["version"] == "Notebook/1.0"
    assert len({item["name"] for item in document["items"]}) == len(document["items"]), "step names must be unique"
    for item in document["items"]:
        if item["type"] == 3:
            content = item["content"]
            assert content["version"] == "KqlItem/1.0" and content["queryType"] == 0
            assert content["resourceType"] == "microsoft.insights/components"
            assert content["timeContextFromParameter"] in parameters()


def test_it_has_every_panel_an_operator_asked_for() -> None:
    assert set(PANELS) <= set(queries())


def test_every_query_reads_an_application_insights_table() -> None:
    for name, query in queries().items():
        assert query.split("\n", 1)[0].strip() in TABLES, f"{name} starts from no known table"


def test_every_placeholder_is_a_defined_parameter_and_every_name_is_used() -> None:
    defined = parameters()
    used: set[str] = set()
    for name, query in queries().items():
        found = set(PLACEHOLDER.findall(query))
        assert found <= set(defined), f"{name} uses undefined {sorted(found - set(defined))}"
        used |= found
    assert set(telemetry_names()) <= used, f"unused names: {sorted(set(telemetry_names()) - used)}"


def test_no_query_writes_a_telemetry_name_outside_the_one_list() -> None:
    for name, query in queries().items():
        assert not LITERAL_NAME.findall(query), f"{name} spells a telemetry name instead of using its parameter"


def test_the_names_are_opentelemetry_names_the_relay_emits() -> None:
    names = telemetry_names()
    emitted = {value for value in vars(conventions).values() if isinstance(value, str)}
    assert set(names.values()) <= emitted, f"not emitted by the relay: {sorted(set(names.values()) - emitted)}"
    assert all(re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", value) for value in names.values())
    metrics = {value for key, value in names.items() if key.startswith("Metric")}
    assert {"gen_ai.client.token.usage", "gen_ai.client.operation.time_to_first_chunk"} <= metrics
    assert all(value.startswith(("gen_ai.", "relay.")) for value in metrics)
    attributes = {value for key, value in names.items() if key.startswith("Attr")}
    assert {"gen_ai.request.model", "gen_ai.token.type"} <= attributes
    assert set(names) == {key for key in names if key.startswith(("Metric", "Attr"))}


def test_main_deploys_the_workbook_on_the_monitoring_component() -> None:
    module = parse("main.bicep")["modules"]["workbook"]
    assert module["detail"]["path"] == "modules/workbook.bicep"
    assert dotted(module["config"]["params"]["appInsightsId"]) == "monitoring.outputs.appInsightsId"
    outputs = parse("modules/monitoring.bicep")["outputs"]
    assert dotted(outputs["appInsightsId"]["value"]) == "appInsights.id"


def test_the_module_loads_the_workbook_file_into_a_shared_workbook_of_the_component() -> None:
    (resource,) = parse("modules/workbook.bicep")["resources"].values()
    assert resource["type"] == "Microsoft.Insights/workbooks"
    config = resource["config"]
    assert config["kind"] == "shared"
    properties = config["properties"]
    assert properties["sourceId"] == "appInsightsId" and properties["category"] == "workbook"
    loaded = properties["serializedData"]["function"]
    assert loaded["type"] == "load_text_content"
    target = (INFRA / "modules" / loaded["parameters"]["file_path"]).resolve()
    assert target == WORKBOOK.resolve()
