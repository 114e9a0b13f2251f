"""The schema-instance generator: what the emulators answer must validate against the requested schema."""

from __future__ import annotations

import datetime
import enum
from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from devtools.emulators.schema_instance import instance_of


class Tag(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Node(BaseModel):
    """Recursive, as pydantic writes it: a $ref back to itself in $defs."""

    label: str
    children: list[Node] = []


class Address(BaseModel):
    city: str = Field(min_length=12)
    postcode: str | None = None


class Order(BaseModel):
    id: int = Field(gt=10, le=20)
    price: float = Field(ge=0.5)
    tags: list[Tag] = Field(min_length=2)
    status: Literal["open", "closed"]
    address: Address
    shipped: datetime.datetime | None
    tree: Node
    extra: dict[str, int]
    either: int | str


ZOD_STYLE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 3},
        "kind": {"const": "recipe"},
        "steps": {"type": "array", "items": {"$ref": "#/$defs/Step"}, "minItems": 1, "maxItems": 1},
        "rating": {"anyOf": [{"type": "null"}, {"type": "number", "exclusiveMaximum": 0}]},
        "flags": {"type": ["boolean", "null"]},
        "merged": {"allOf": [{"$ref": "#/$defs/Named"}, {"type": "object", "properties": {"n": {"type": "integer"}}}]},
    },
    "required": ["title", "kind", "steps", "rating", "flags", "merged"],
    "additionalProperties": False,
    "$defs": {
        "Step": {
            "type": "object",
            "properties": {"text": {"type": "string", "format": "email"}},
            "required": ["text"],
            "additionalProperties": False,
        },
        "Named": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
    },
}


@pytest.mark.parametrize(
    "schema",
    [Order.model_json_schema(), Node.model_json_schema(), ZOD_STYLE, {"type": "object"}, {}],
    ids=["pydantic-order", "pydantic-recursive", "zod-style", "any-object", "empty"],
)
def test_instances_validate(schema: dict[str, Any]) -> None:
    instance = instance_of(schema)
    jsonschema.validate(instance, schema)


def test_pydantic_reads_the_instance_back() -> None:
    order = Order.model_validate(instance_of(Order.model_json_schema()))
    assert order.address.postcode is not None  # optional fields are filled in too
    assert len(order.tags) == 2 and order.status == "open"
