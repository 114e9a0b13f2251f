"""LangChain's ``ChatOpenAI.with_structured_output`` through the relay, on every alias.

All three methods, invoked and streamed. ``json_schema`` and
``function_calling`` get a natural prompt, so each emulator answers from the
schema the relay forwarded (as ``response_format``, ``outputConfig``, a forced
tool or ``responseJsonSchema``); ``json_mode`` sends no schema, so its prompt
asks for JSON and the scripted answer is the JSON a model would write.
"""

from __future__ import annotations

from typing import Any, Literal

import pytest
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from devtools.emulators.scenario import inline_prompt
from tests.builders import RELAY_TEST_KEY


class Stop(BaseModel):
    """One stop of a trip."""

    city: str
    days: int


class Trip(BaseModel):
    """A trip plan, with the shapes pydantic users write: nesting, lists, enums, numbers, booleans."""

    destination: str
    nights: int
    season: Literal["spring", "summer", "autumn", "winter"]
    refundable: bool
    stops: list[Stop]


TRIP_PROMPT = "Plan a one-week trip through Portugal in spring: destination, nights, season, refundable, stops."
LISBON = Trip(destination="Lisbon", nights=7, season="spring", refundable=True, stops=[Stop(city="Porto", days=2)])
SchemaMethod = Literal["json_schema", "function_calling"]
JSON_MODE_PROMPT = inline_prompt(text=LISBON.model_dump_json(), chunks=6) + (
    "\nAnswer in JSON with the keys destination, nights, season, refundable and stops (city, days)."
)


@pytest.fixture
def chat(every_provider_relay_url: str, alias: str) -> ChatOpenAI:
    """LangChain's OpenAI chat model pointed at the relay, the alias as the model."""
    return ChatOpenAI(
        base_url=f"{every_provider_relay_url}/api/v1", api_key=RELAY_TEST_KEY, model=alias, max_retries=0, timeout=30
    )


def last_object(chunks: list[Any]) -> Any:
    """What a structured stream settled on: its last chunk."""
    assert chunks, "the structured stream yielded nothing"
    return chunks[-1]


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_a_schema_method_invoked_returns_a_valid_object(chat: ChatOpenAI, method: SchemaMethod) -> None:
    trip = chat.with_structured_output(Trip, method=method).invoke(TRIP_PROMPT)
    assert isinstance(trip, Trip)
    Trip.model_validate(trip.model_dump())


# langchain-openai's json_schema stream dumps the SDK's ParsedChatCompletion, whose `parsed` field is
# typed None, and pydantic warns about the user's model found there (langchain-ai/langchain#35538); the
# warning is the client library's own, raised against OpenAI too, so only that one is let through.
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")
@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_a_schema_method_streamed_returns_a_valid_object(chat: ChatOpenAI, method: SchemaMethod) -> None:
    chunks = list(chat.with_structured_output(Trip, method=method).stream(TRIP_PROMPT))
    trip = last_object(chunks)
    assert isinstance(trip, Trip)
    Trip.model_validate(trip.model_dump())


def test_json_mode_invoked_parses_the_json_answer(chat: ChatOpenAI) -> None:
    trip = chat.with_structured_output(Trip, method="json_mode").invoke(JSON_MODE_PROMPT)
    assert trip == LISBON


def test_json_mode_streamed_parses_the_json_answer(chat: ChatOpenAI) -> None:
    trip = last_object(list(chat.with_structured_output(Trip, method="json_mode").stream(JSON_MODE_PROMPT)))
    assert trip == LISBON
