"""Every Bicep file parses with a real Bicep parser, and what main.bicep wires together exists."""

from __future__ import annotations

import json
import re

import pytest

from tests.infra.bicep import INFRA, ROOT, bicep_files, decorator, parse, site

FILES = bicep_files()


def test_the_template_has_the_files_azd_expects() -> None:
    assert (ROOT / "azure.yaml").is_file()
    assert "infra/main.bicep" in {f"infra/{name}" for name in FILES}
    assert (INFRA / "main.parameters.json").is_file()


@pytest.mark.parametrize("relative", FILES)
def test_each_bicep_file_parses_and_declares_something(relative: str) -> None:
    template = parse(relative)
    assert template.get("resources") or template.get("modules"), f"{relative} declares no resource or module"


@pytest.mark.parametrize("relative", FILES)
def test_each_module_path_points_at_a_file(relative: str) -> None:
    for name, module in parse(relative).get("modules", {}).items():
        target = (INFRA / relative).parent / module["detail"]["path"]
        assert target.is_file(), f"{relative}: module {name} names a missing {module['detail']['path']}"


def test_every_module_file_is_used() -> None:
    used = {"main.bicep"}
    for relative in FILES:
        for module in parse(relative).get("modules", {}).values():
            used.add(str(((INFRA / relative).parent / module["detail"]["path"]).resolve().relative_to(INFRA)))
    assert set(FILES) == used


def test_python_version_is_a_parameter_of_the_supported_versions_defaulting_to_3_12() -> None:
    param = parse("main.bicep")["parameters"]["pythonVersion"]
    assert decorator(param, "allowed") == ["3.11", "3.12", "3.13"]
    assert param["default"] == "3.12"
    assert parse("main.bicep")["modules"]["functionApp"]["config"]["params"]["pythonVersion"] == "pythonVersion"


def test_the_runtime_is_set_through_function_app_config_on_a_flex_plan() -> None:
    app = parse("modules/function-app.bicep")
    config = site(app)["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "pythonVersion"}
    assert "linuxFxVersion" not in site(app)["siteConfig"]
    (plan,) = [r for r in app["resources"].values() if r["type"] == "Microsoft.Web/serverfarms"]
    assert plan["config"]["sku"] == {"name": "FC1", "tier": "FlexConsumption"}


def test_scale_settings_come_from_parameters() -> None:
    scale = site(parse("modules/function-app.bicep"))["functionAppConfig"]["scaleAndConcurrency"]
    assert scale["triggers"]["http"]["perInstanceConcurrency"] == "httpPerInstanceConcurrency"
    assert scale["instanceMemoryMB"] == "instanceMemoryMB"
    assert scale["maximumInstanceCount"] == "maximumInstanceCount"
    passed = parse("main.bicep")["modules"]["functionApp"]["config"]["params"]
    for name in ("httpPerInstanceConcurrency", "instanceMemoryMB", "maximumInstanceCount"):
        assert passed[name] == name


def test_parameter_file_defaults_match_the_template_defaults() -> None:
    """azd fills parameters from main.parameters.json; its ${VAR=default} must agree with main.bicep."""
    declared = parse("main.bicep")["parameters"]
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert set(given) <= set(declared), "main.parameters.json names a parameter main.bicep lacks"
    for name, entry in given.items():
        match = re.fullmatch(r"\$\{([A-Z0-9_]+)(?:=(.*))?\}", entry["value"])
        assert match, f"{name}: expected an azd ${{VAR}} or ${{VAR=default}}"
        default = declared[name].get("default")
        if match.group(2) is not None and default is not None:
            assert match.group(2) == str(default), f"{name}: main.parameters.json and main.bicep disagree"


def test_readme_documents_each_scale_parameter_and_its_default() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Deploying") :]
    declared = parse("main.bicep")["parameters"]
    for name in ("pythonVersion", "instanceMemoryMB", "maximumInstanceCount", "httpPerInstanceConcurrency"):
        row = next((line for line in section.splitlines() if f"`{name}`" in line), "")
        assert f"`{declared[name]['default']}`" in row, f"README Deploying: no row for {name} with its default"
