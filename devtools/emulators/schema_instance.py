"""A JSON instance that validates against a JSON Schema, for emulated structured output.

A real model asked for structured output answers with JSON in the requested
shape; the emulators answer with the instance built here so that a client's
parser (pydantic, zod, LangChain) has something real to validate. It covers
what pydantic and zod write: objects with properties and required, arrays,
enum and const, strings (with a few formats), numbers with bounds, booleans,
null, anyOf/oneOf/allOf, type lists and ``$ref`` into ``$defs``/``definitions``.
Near the root every property is filled in, required or not, so optional
fields are exercised too; deeper down only what is required, so recursive
schemas (a tree of nodes) end.
"""

from __future__ import annotations

from typing import Any

FILL_DEPTH = 4  # below this, optional properties and array items are left out
MAX_DEPTH = 64
STRING_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00Z",
    "email": "someone@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def instance_of(schema: Any) -> Any:
    """An instance of ``schema``; the root is also where ``$ref`` targets are looked up."""
    return _Builder(schema if isinstance(schema, dict) else {}).build(schema, 0)


class _Builder:
    def __init__(self, root: dict[str, Any]) -> None:
        self._root = root

    def build(self, schema: Any, depth: int) -> Any:
        if not isinstance(schema, dict):
            return None if schema is False else {}
        if "$ref" in schema:
            return self.build(self._resolve(schema["$ref"]), depth + 1) if depth < MAX_DEPTH else {}
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        for keyword in ("anyOf", "oneOf"):
            if schema.get(keyword):
                return self.build(self._first_choice(schema[keyword]), depth + 1)
        if schema.get("allOf"):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged = _merge(merged, self._resolve(part["$ref"]) if "$ref" in part else part)
            return self.build(merged, depth + 1)
        return self._typed(schema, _type_of(schema), depth)

    def _first_choice(self, choices: list[Any]) -> Any:
        """The first choice that is not null, so an Optional field gets a real value."""
        for choice in choices:
            if not (isinstance(choice, dict) and choice.get("type") == "null"):
                return choice
        return choices[0]

    def _typed(self, schema: dict[str, Any], kind: str, depth: int) -> Any:
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, depth)
        if kind == "string":
            return _string(schema)
        if kind in ("number", "integer"):
            return _number(schema, kind)
        if kind == "boolean":
            return True
        return None

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = list(schema.get("required") or [])
        names = list(properties) if depth < FILL_DEPTH else required
        names += [name for name in required if name not in names]
        return {name: self.build(properties.get(name, {"type": "string"}), depth + 1) for name in names}

    def _array(self, schema: dict[str, Any], depth: int) -> list[Any]:
        items = schema.get("items", {"type": "string"})
        count = int(schema.get("minItems") or 0)
        if depth < FILL_DEPTH:
            count = max(1, count)
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        return [self.build(items, depth + 1) for _ in range(count)]

    def _resolve(self, reference: str) -> Any:
        """``#/$defs/Name`` (or any JSON pointer into the root); an unknown reference is an empty schema."""
        if not reference.startswith("#"):
            return {}
        node: Any = self._root
        for part in [p for p in reference[1:].split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else {}


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "object"


def _string(schema: dict[str, Any]) -> str:
    text = STRING_FORMATS.get(schema.get("format", ""), "example")
    minimum = int(schema.get("minLength") or 0)
    if len(text) < minimum:
        text += "x" * (minimum - len(text))
    if "maxLength" in schema:
        text = text[: int(schema["maxLength"])]
    return text


def _number(schema: dict[str, Any], kind: str) -> int | float:
    value: float = 1
    if "minimum" in schema:
        value = max(value, schema["minimum"])
    if "exclusiveMinimum" in schema and not isinstance(schema["exclusiveMinimum"], bool):
        value = max(value, schema["exclusiveMinimum"] + 1)
    if "maximum" in schema:
        value = min(value, schema["maximum"])
    if "exclusiveMaximum" in schema and not isinstance(schema["exclusiveMaximum"], bool):
        value = min(value, schema["exclusiveMaximum"] - 1)
    return int(value) if kind == "integer" else float(value)


def _merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """allOf's parts as one schema: properties and required lists combined."""
    merged = {**left, **right}
    merged["properties"] = {**(left.get("properties") or {}), **(right.get("properties") or {})}
    merged["required"] = [*(left.get("required") or []), *(right.get("required") or [])]
    return merged
