"""Valid-looking request documents, drawn from the pydantic models' JSON Schema.

Only the schema keywords the request models use are understood; an unknown
keyword fails loudly, so a new field type in ``shared/chat_request.py`` cannot
silently fall out of the fuzz suite. ``model`` is the route's alias, and
``stream`` is left out: the route under test decides it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.fuzz.json_text import ALIAS
from tests.fuzz.values import free_json, odd_text

Schema = dict[str, Any]
KNOWN_KEYWORDS = {
    "$ref", "$defs", "anyOf", "enum", "const", "type", "properties", "required", "additionalProperties",
    "items", "minItems", "minLength", "maxLength", "minimum", "maximum", "default", "title", "description",
}  # fmt: skip
LEFT_TO_THE_ROUTE = {"stream"}


def documents(schema: Schema) -> st.SearchStrategy[Any]:
    """Documents valid against ``schema`` (the top level of a request model)."""
    return _strategy(schema, schema["$defs"], top=True)


def _strategy(schema: Schema, defs: dict[str, Schema], top: bool = False) -> st.SearchStrategy[Any]:
    unknown = set(schema) - KNOWN_KEYWORDS
    if unknown:
        raise ValueError(f"the fuzz suite does not understand schema keywords {sorted(unknown)}")
    if "$ref" in schema:
        return st.deferred(lambda: _strategy(defs[schema["$ref"].rsplit("/", 1)[1]], defs))
    if "anyOf" in schema:
        return st.one_of([_strategy(member, defs) for member in schema["anyOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    return _typed(schema, defs, top)


def _typed(schema: Schema, defs: dict[str, Schema], top: bool) -> st.SearchStrategy[Any]:
    kind = schema["type"]
    if kind == "object":
        return _object(schema, defs, top)
    if kind == "array":
        return st.lists(_strategy(schema["items"], defs), min_size=schema.get("minItems", 0), max_size=4)
    if kind == "string":
        longest = schema.get("maxLength")
        text = odd_text(min_size=schema.get("minLength", 0))
        return text if longest is None else text.map(lambda value: value[:longest])
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum"), max_value=schema.get("maximum"))
    if kind == "number":
        return st.floats(min_value=schema.get("minimum"), max_value=schema.get("maximum"), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    raise ValueError(f"the fuzz suite does not understand schema type {kind!r}")


def _object(schema: Schema, defs: dict[str, Schema], top: bool) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Schema] = schema.get("properties", {})
    required = set(schema.get("required", []))
    if top:
        properties = {name: spec for name, spec in properties.items() if name not in LEFT_TO_THE_ROUTE}
    fields = {name: _field(name, spec, defs, top) for name, spec in properties.items()}
    shape = st.fixed_dictionaries(
        {name: fields[name] for name in fields if name in required},
        optional={name: fields[name] for name in fields if name not in required},
    )
    extra = schema.get("additionalProperties")
    if extra is True or isinstance(extra, dict):
        values = free_json() if extra is True else _strategy(extra, defs)
        extras = st.dictionaries(odd_text(max_size=12), values, max_size=2)
        return st.tuples(extras, shape).map(lambda pair: {**pair[0], **pair[1]})
    return shape


def _field(name: str, spec: Schema, defs: dict[str, Schema], top: bool) -> st.SearchStrategy[Any]:
    if top and name == "model":
        return _alias_mostly(spec, defs)
    return _strategy(spec, defs)


def _alias_mostly(spec: Schema, defs: dict[str, Schema]) -> st.SearchStrategy[Any]:
    """The route's alias nearly always, so most requests get past routing to a provider."""
    return st.sampled_from(range(10)).flatmap(lambda pick: _strategy(spec, defs) if pick == 9 else st.just(ALIAS))
