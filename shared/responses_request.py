"""The client's Responses API request, validated and translated into a :class:`ChatRequest`.

The Responses API is one more way to ask for the same thing the relay already
serves, so a request is translated once, here, into the neutral Chat
Completions shape. From there auth, policy, quotas, routing and failover treat
it exactly like a chat request, and no provider adapter knows it exists.

Validation is as strict as on the chat route: unknown fields are a 400 naming
them. Input items and content parts are checked one model per ``type``, so an
error names ``input[2].content[0].image_url`` rather than a union member.

The relay keeps no state. ``previous_response_id``, ``conversation``,
``background: true`` and ``store: true`` would need it, so each is refused
with a 400 telling the client to send the whole input. An absent ``store`` is
taken as false (OpenAI's server default is true, but nothing is kept here).
Reasoning items in the input carrying the relay's ``encrypted_content`` go
back to the provider that signed them; others are accepted and dropped
(:mod:`.responses_items`). ``metadata``, ``service_tier``, ``prompt_cache_key``,
``safety_identifier``, ``text.verbosity`` and
``stream_options.include_obfuscation`` become their chat namesakes, so each
provider forwards, maps or drops them exactly as on the chat route (README,
the parameter table); ``include`` and ``reasoning.summary`` are accepted and
not forwarded.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .chat_request import ChatRequest, TokenCount, validation_error_to_invalid_request
from .errors import InvalidRequest
from .json_body import load_object
from .request_fields import Metadata
from .responses_items import TextOrObjects, translate_input

STATELESS = "the relay keeps no state between requests; send the whole conversation in input instead"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FunctionTool(_Strict):
    """A Responses function tool: flat, not nested under ``function`` as in Chat Completions."""

    type: Literal["function"]
    name: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None

    def chat_tool(self) -> dict[str, Any]:
        function = self.model_dump(include={"name", "description", "parameters", "strict"}, exclude_none=True)
        return {"type": "function", "function": function}


class NamedFunction(_Strict):
    type: Literal["function"]
    name: str = Field(min_length=1)


class TextFormat(_Strict):
    """``text.format``: the Responses form of ``response_format``, its schema fields flat."""

    type: Literal["text", "json_object", "json_schema"]
    name: str | None = Field(default=None, min_length=1, max_length=64)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    description: str | None = None
    strict: bool | None = None

    def response_format(self) -> dict[str, Any] | None:
        """The chat ``response_format``; plain text is the default, so it asks for nothing."""
        if self.type == "text":
            return None
        if self.type == "json_object":
            return {"type": "json_object"}
        if self.name is None:
            raise InvalidRequest("text.format.name: is required for json_schema", param="text.format.name")
        if self.schema_ is None:
            raise InvalidRequest("text.format.schema: is required for json_schema", param="text.format.schema")
        schema = {"name": self.name, "schema": self.schema_, "description": self.description, "strict": self.strict}
        return {"type": "json_schema", "json_schema": {k: v for k, v in schema.items() if v is not None}}


class TextConfig(_Strict):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningConfig(_Strict):
    effort: Literal["minimal", "low", "medium", "high"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None


class ResponsesStreamOptions(_Strict):
    include_obfuscation: bool | None = None


class ResponsesRequest(_Strict):
    """A validated ``POST /v1/responses`` body; ``model`` is a public alias."""

    model: str = Field(min_length=1)
    input: TextOrObjects
    instructions: str | None = None
    tools: list[FunctionTool] | None = None
    tool_choice: Literal["auto", "none", "required"] | NamedFunction | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    reasoning: ReasoningConfig | None = None
    max_output_tokens: TokenCount | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    user: str | None = None
    stream: bool = False
    stream_options: ResponsesStreamOptions | None = None
    metadata: Metadata | None = None
    include: list[str] | None = None
    truncation: Literal["disabled"] | None = None
    service_tier: Literal["auto", "default", "flex", "scale", "priority"] | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None
    store: bool | None = None
    background: bool | None = None
    previous_response_id: str | None = None
    conversation: str | dict[str, Any] | None = None

    def refuse_state(self) -> None:
        """A 400 for every field that only a server keeping responses could honour."""
        wanted = {
            "previous_response_id": self.previous_response_id is not None,
            "conversation": self.conversation is not None,
            "background": self.background is True,
            "store": self.store is True,
        }
        for param, asked in wanted.items():
            if asked:
                raise InvalidRequest(f"{param}: not supported; {STATELESS}", param=param)

    def chat_document(self) -> dict[str, Any]:
        """The equivalent Chat Completions body, validated next as a :class:`ChatRequest`."""
        messages = translate_input(self.input)
        if self.instructions:
            messages.insert(0, {"role": "system", "content": self.instructions})
        if not messages:
            raise InvalidRequest("input: holds no message the model can answer", param="input")
        document: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": self.stream,
            "max_completion_tokens": self.max_output_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "user": self.user,
            "parallel_tool_calls": self.parallel_tool_calls,
            "reasoning_effort": self.reasoning.effort if self.reasoning else None,
            "tools": [tool.chat_tool() for tool in self.tools] if self.tools else None,
            "tool_choice": self._chat_tool_choice(),
            "response_format": self.text.format.response_format() if self.text and self.text.format else None,
            "verbosity": self.text.verbosity if self.text else None,
            "metadata": self.metadata,
            "service_tier": self.service_tier,
            "prompt_cache_key": self.prompt_cache_key,
            "safety_identifier": self.safety_identifier,
            "stream_options": self.stream_options.model_dump(exclude_none=True) if self.stream_options else None,
        }
        return {name: value for name, value in document.items() if value is not None}

    def _chat_tool_choice(self) -> str | dict[str, Any] | None:
        if isinstance(self.tool_choice, NamedFunction):
            return {"type": "function", "function": {"name": self.tool_choice.name}}
        return self.tool_choice

    def echo(self) -> dict[str, Any]:
        """The request fields a ``response`` object repeats back to the client."""
        text_format = self.text.format if self.text and self.text.format else TextFormat(type="text")
        return {
            "instructions": self.instructions,
            "max_output_tokens": self.max_output_tokens,
            "metadata": self.metadata or {},
            "parallel_tool_calls": True if self.parallel_tool_calls is None else self.parallel_tool_calls,
            "reasoning": self.reasoning.model_dump() if self.reasoning else {"effort": None, "summary": None},
            "store": False,
            "temperature": self.temperature,
            "text": {"format": text_format.model_dump(by_alias=True, exclude_none=True)},
            "tool_choice": self.tool_choice.model_dump()
            if isinstance(self.tool_choice, NamedFunction)
            else self.tool_choice or "auto",
            "tools": [tool.model_dump(exclude_none=True) for tool in self.tools or []],
            "top_p": self.top_p,
            "truncation": "disabled",
            "user": self.user,
        }


class ResponsesBody:
    """Parses one body for ``open_stream``, keeping the Responses view beside the chat request it hands on."""

    def __init__(self) -> None:
        self.request: ResponsesRequest | None = None

    def __call__(self, raw: bytes) -> ChatRequest:
        self.request = parse_responses_request(raw)
        return to_chat_request(self.request)

    def echo(self) -> dict[str, Any]:
        return self.request.echo() if self.request else {}


def parse_responses_request(raw: bytes) -> ResponsesRequest:
    """Parse and validate a body, raising ``InvalidRequest`` that names the field."""
    document = load_object(raw)
    try:
        request = ResponsesRequest.model_validate(document)
    except ValidationError as exc:
        raise validation_error_to_invalid_request(exc) from None
    request.refuse_state()
    return request


def to_chat_request(request: ResponsesRequest) -> ChatRequest:
    """The chat request the relay serves; its own checks (tool JSON depth, roles) still apply."""
    try:
        return ChatRequest.model_validate(request.chat_document())
    except ValidationError as exc:
        problem = validation_error_to_invalid_request(exc)
        raise InvalidRequest(f"input: cannot be served as a conversation ({problem.message})", param="input") from None
