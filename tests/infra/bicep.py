"""The template as data: Bicep files parsed by pycep, and a small evaluator for the parts tests reason about.

The evaluator knows only what the template's app settings use (object and
list literals, variables, parameters, ``union``, ``contains``, ``empty``,
``a ? b : c`` and string interpolation of variables). Anything else, such as
a resource property known only at deploy time, evaluates to an ``Unknown``
naming the expression, so a test can see that a value exists without
inventing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
EXPRESSION_KEYS = {"function", "operator", "loop_type"}
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Unknown:
    """A value only Azure knows at deploy time."""

    expression: str


@cache
def parse(relative: str) -> dict[str, Any]:
    """One Bicep file under infra/, parsed."""
    return dict(BicepParser().parse(file_path=INFRA / relative))


def bicep_files() -> list[str]:
    return sorted(str(path.relative_to(INFRA)) for path in INFRA.rglob("*.bicep"))


class Evaluator:
    """Evaluates expressions of one parsed file, given its parameter values."""

    def __init__(self, template: dict[str, Any], params: dict[str, Any]) -> None:
        self._template = template
        self._params = params

    def value(self, expr: Any) -> Any:
        if isinstance(expr, list):
            return [self.value(item) for item in expr]
        if isinstance(expr, dict) and EXPRESSION_KEYS & expr.keys():
            return self._expression(expr)
        if isinstance(expr, dict):
            return {key: self.value(item) for key, item in expr.items()}
        if isinstance(expr, str):
            return self._name_or_text(expr)
        return expr

    def variable(self, name: str) -> Any:
        return self.value(self._template["variables"][name]["value"])

    def _name_or_text(self, text: str) -> Any:
        if text in self._params:
            return self._params[text]
        if text in self._template.get("variables", {}):
            return self.variable(text)
        if "${" in text:
            return INTERPOLATION.sub(lambda match: self._interpolated(match.group(1)), text)
        return text

    def _interpolated(self, name: str) -> str:
        resolved = self._name_or_text(name)
        return resolved if isinstance(resolved, str) and resolved != name else "${" + name + "}"

    def _expression(self, expr: dict[str, Any]) -> Any:
        if "function" in expr:
            function = expr["function"]
            args = [self.value(arg) for arg in function["parameters"].values()]
            return self._call(function["type"], args, expr)
        operator = expr.get("operator", {})
        if operator.get("type") == "conditional":
            operands = operator["operands"]
            chosen = "true_value" if self.value(operands["condition"]) is True else "false_value"
            return self.value(operands[chosen])
        return Unknown(repr(expr)[:120])

    def _call(self, name: str, args: list[Any], expr: dict[str, Any]) -> Any:
        if name == "union" and all(isinstance(arg, dict) for arg in args):
            merged: dict[str, Any] = {}
            for arg in args:
                merged.update(arg)
            return merged
        if name == "contains" and isinstance(args[0], list | dict | str):
            return args[1] in args[0]
        if name == "empty" and not isinstance(args[0], Unknown):
            return not args[0]
        return Unknown(repr(expr)[:120])


def app_settings(python_version: str, secrets: dict[str, str]) -> dict[str, Any]:
    """The function app's settings for one Python version and the secure parameters that were given."""
    vault = parse("modules/keyvault.bicep")
    vault_params = {name: secrets.get(name, "") for name in secure_parameters(vault)}
    secret_settings = Evaluator(vault, vault_params).value(vault["outputs"]["appSettings"]["value"])
    app = parse("modules/function-app.bicep")
    params = {"pythonVersion": python_version, "secretSettings": secret_settings}
    loop = site(app)["siteConfig"]["appSettings"]["loop_type"]["detail"]["array_name"]
    assert loop["function"]["type"] == "items", "appSettings should be built from one settings object"
    return dict(Evaluator(app, params).value(loop["function"]["parameters"]["arg_1"]))


def site(app: dict[str, Any]) -> dict[str, Any]:
    """The properties of the function app resource."""
    (resource,) = [r for r in app["resources"].values() if r["type"] == "Microsoft.Web/sites"]
    return dict(resource["config"]["properties"])


def secure_parameters(template: dict[str, Any]) -> list[str]:
    return [
        name
        for name, param in template.get("parameters", {}).items()
        if any(decorator["type"] == "secure" for decorator in param["decorators"])
    ]


def decorator(param: dict[str, Any], kind: str) -> Any:
    return next(item["argument"] for item in param["decorators"] if item["type"] == kind)
