"""The client's chat request, validated once, in OpenAI's Chat Completions shape.

OpenAI's request shape is the relay's neutral request format: the Azure
adapter forwards it nearly as is, and the other providers translate from it.
Validation is strict (no type coercion, unknown fields rejected) so a client
learns about a typo from a 400 naming the field, not from a silent default.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .errors import InvalidRequest
from .json_body import INT64, MAX_DEPTH, load_object, nesting_depth
from .reasoning_replay import AnyThinkingBlock, ExtraContent
from .request_fields import CacheControl, FunctionName, LogitBias, Metadata

# "function" is the legacy tool result; it is rewritten as a "tool" message before any provider sees it.
Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
# Every provider takes a token count as a 32-bit integer and a seed as a 64-bit one.
TokenCount = Annotated[int, Field(ge=1, le=2**31 - 1)]
Seed = Annotated[int, Field(ge=-INT64, le=INT64 - 1)]


def _shallow_json(text: str) -> str:
    """Text an adapter may parse as JSON (tool arguments and results), refused if nested too deep to parse."""
    if nesting_depth(text) > MAX_DEPTH:
        raise ValueError(f"holds JSON nested deeper than {MAX_DEPTH} levels")
    return text


JsonText = Annotated[str, AfterValidator(_shallow_json)]

# Parameters an OpenAI-protocol upstream (Azure OpenAI) is sent as the client set them.
SAMPLING_PARAMETERS = (
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "user",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "reasoning_effort",
    "store",
    "metadata",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
    "verbosity",
    "logit_bias",
    "modalities",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ContentPart(BaseModel):
    """One part of a multi-part message (text, image, audio or file)."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    type: Literal["text", "image_url", "input_audio", "file", "refusal"]
    text: str | None = None
    # Read by the Bedrock translation only; left out of every dump, so OpenAI-protocol upstreams never see it.
    cache_control: CacheControl | None = Field(default=None, exclude=True)


class FunctionCall(_Strict):
    name: str
    arguments: JsonText


class ToolCall(_Strict):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall
    # Google's thought signature, and the SDKs' stream index: read by the translations, never dumped.
    extra_content: ExtraContent | None = Field(default=None, exclude=True)
    index: int | None = Field(default=None, exclude=True)


class ChatMessage(_Strict):
    """One turn of the conversation."""

    role: Role
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    refusal: str | None = None
    function_call: FunctionCall | None = None
    # Read by the Bedrock translation only; left out of every dump, so OpenAI-protocol upstreams never see it.
    cache_control: CacheControl | None = Field(default=None, exclude=True)
    # Replayed reasoning (see shared.reasoning_replay): read by the translations, never dumped.
    reasoning_content: str | None = Field(default=None, exclude=True)
    thinking_blocks: list[AnyThinkingBlock] | None = Field(default=None, exclude=True)

    @field_validator("content")
    @classmethod
    def _tool_result_depth(cls, content: str | list[ContentPart] | None, info: ValidationInfo) -> object:
        """A tool's result is parsed as JSON by some adapters, like tool-call arguments."""
        if info.data.get("role") == "tool":
            texts = [content] if isinstance(content, str) else [part.text or "" for part in content or []]
            for text in texts:
                _shallow_json(text)
        return content

    @model_validator(mode="after")
    def _check_role_fields(self) -> ChatMessage:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs tool_call_id")
        if self.role == "function" and not self.name:
            raise ValueError("a function message needs name")
        if self.role != "assistant" and (self.function_call or self.thinking_blocks or self.reasoning_content):
            raise ValueError("only an assistant message has function_call, reasoning_content or thinking_blocks")
        if self.role != "assistant" and self.content is None:
            raise ValueError(f"a {self.role} message needs content")
        if self.role == "assistant" and self.content is None and not (self.tool_calls or self.function_call):
            raise ValueError("an assistant message needs content or tool_calls")
        return self

    def text(self) -> str:
        """The message's text parts joined, for providers without multi-part input."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text or "" for part in self.content or [] if part.type == "text")


class StreamOptions(_Strict):
    include_usage: bool = False
    # The relay writes its own stream, so the upstream's obfuscation padding never reaches the client.
    include_obfuscation: bool | None = None


class FunctionDefinition(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    name: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, Any] | None = None


class Tool(_Strict):
    type: Literal["function"]
    function: FunctionDefinition
    # Read by the Bedrock translation only; left out of every dump, so OpenAI-protocol upstreams never see it.
    cache_control: CacheControl | None = Field(default=None, exclude=True)


class JsonSchemaFormat(_Strict):
    """``response_format.json_schema``: a named schema for structured output."""

    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Strict):
    """``response_format``, checked here so that every provider translates a known shape."""

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None

    @model_validator(mode="after")
    def _schema_with_its_type(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("type json_schema needs json_schema")
        return self


class ChatRequest(_Strict):
    """A validated Chat Completions request; ``model`` is a public alias."""

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: TokenCount | None = None
    max_completion_tokens: TokenCount | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    stop: str | list[str] | None = None
    n: int | None = Field(default=None, ge=1, le=1, description="Only n=1 is supported.")
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    seed: Seed | None = None
    user: str | None = None
    tools: list[Tool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    store: bool | None = None
    metadata: Metadata | None = None
    service_tier: Literal["auto", "default", "flex", "scale", "priority"] | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    logit_bias: LogitBias | None = None
    modalities: list[Literal["text", "audio"]] | None = None
    functions: list[FunctionDefinition] | None = Field(default=None, min_length=1)
    function_call: Literal["none", "auto"] | FunctionName | None = None

    @property
    def include_usage(self) -> bool:
        """Whether the client asked for a usage chunk at the end of the stream."""
        return bool(self.stream_options and self.stream_options.include_usage)

    @property
    def output_token_limit(self) -> int | None:
        """The client's cap on generated tokens, whichever name it used."""
        return self.max_completion_tokens or self.max_tokens

    @property
    def uses_legacy_functions(self) -> bool:
        """Whether the client asked with ``functions``, and so reads ``function_call`` answers."""
        return self.functions is not None

    @property
    def tool_list(self) -> list[Tool] | None:
        """``tools``, or the legacy ``functions`` as tools: providers know only tools."""
        if self.functions is None:
            return self.tools
        return [Tool(type="function", function=function) for function in self.functions]

    @property
    def tool_choice_value(self) -> str | dict[str, Any] | None:
        """``tool_choice``, or the legacy ``function_call`` in its terms."""
        choice = self.function_call
        if isinstance(choice, FunctionName):
            return {"type": "function", "function": {"name": choice.name}}
        return choice if choice is not None else self.tool_choice

    @property
    def structured_output(self) -> dict[str, Any] | None:
        """``response_format`` when it asks for JSON; ``{"type": "text"}`` asks for nothing."""
        if self.response_format is None or self.response_format.get("type") == "text":
            return None
        return self.response_format

    def sampling_parameters(self, names: tuple[str, ...] = SAMPLING_PARAMETERS) -> dict[str, Any]:
        """The parameters among ``names`` the client set, ready to forward; legacy functions as tools."""
        dumped = self.model_dump(include=set(names), exclude_none=True)
        if self.functions is not None and "tools" in names:
            dumped["tools"] = [tool.model_dump(exclude_none=True) for tool in self.tool_list or []]
            if self.function_call is not None:
                dumped["tool_choice"] = self.tool_choice_value
        return {name: dumped[name] for name in names if name in dumped}


def parse_chat_request(raw: bytes) -> ChatRequest:
    """Parse and validate a request body, raising ``InvalidRequest`` that names the field."""
    document = load_object(raw)
    try:
        chat = ChatRequest.model_validate(document)
    except ValidationError as exc:
        raise validation_error_to_invalid_request(exc) from None
    if chat.response_format is not None:
        # Kept as the client's dict for the adapters, but only in a shape they all know.
        try:
            ResponseFormat.model_validate(chat.response_format)
        except ValidationError as exc:
            raise validation_error_to_invalid_request(exc, within=("response_format",)) from None
    refuse_unrelayable(chat)
    check_legacy_functions(chat)
    return with_legacy_turns_as_tools(chat)


def with_legacy_turns_as_tools(chat: ChatRequest) -> ChatRequest:
    """Legacy turns in today's shape: ``function_call`` as a tool call, a ``function`` result as a tool result.

    Legacy turns carry no call ids, so each call gets one from its position
    and each result answers the latest call of its name.
    """
    if not any(m.role == "function" or m.function_call is not None for m in chat.messages):
        return chat
    messages: list[ChatMessage] = []
    latest: dict[str, str] = {}
    for index, message in enumerate(chat.messages):
        if message.function_call is not None:
            call_id = f"call_legacy_{index}"
            latest[message.function_call.name] = call_id
            call = ToolCall(id=call_id, function=message.function_call)
            calls = [*(message.tool_calls or []), call]
            message = message.model_copy(update={"function_call": None, "tool_calls": calls})
        elif message.role == "function":
            call_id = latest.get(message.name or "", f"call_legacy_{index}")
            message = message.model_copy(update={"role": "tool", "name": None, "tool_call_id": call_id})
        messages.append(message)
    return chat.model_copy(update={"messages": messages})


def check_legacy_functions(chat: ChatRequest) -> None:
    """``functions`` stand in for ``tools``; both at once would leave the answer's shape ambiguous."""
    if chat.functions is not None and (chat.tools is not None or chat.tool_choice is not None):
        raise InvalidRequest("functions: give tools or the legacy functions, not both", param="functions")
    if chat.function_call is not None and chat.functions is None:
        raise InvalidRequest("function_call: needs functions", param="function_call")


def refuse_unrelayable(chat: ChatRequest) -> None:
    """Refuse what no provider path can give back, because the relay's stream does not carry it.

    Token log probabilities and audio output would be silently missing from
    the answer, so asking for them is a 400 that says so, on every alias.
    """
    if chat.logprobs:
        raise InvalidRequest(
            "logprobs: token log probabilities are not relayed; leave logprobs out or set it to false",
            param="logprobs",
        )
    if chat.top_logprobs:
        raise InvalidRequest(
            "top_logprobs: token log probabilities are not relayed; leave top_logprobs out or set it to 0",
            param="top_logprobs",
        )
    if chat.modalities is not None and "audio" in chat.modalities:
        raise InvalidRequest(
            'modalities: audio output is not relayed; ask for ["text"] and synthesise speech separately',
            param="modalities",
        )


def validation_error_to_invalid_request(exc: ValidationError, within: tuple[str, ...] = ()) -> InvalidRequest:
    """The first validation problem as a 400 that names its field (``within`` the parent's fields)."""
    errors = exc.errors(include_url=False, include_input=False)
    # A bad breakpoint in a content list also fails the ``str`` branch of ``content``; name the breakpoint.
    problem = next((error for error in errors if "cache_control" in error["loc"]), errors[0])
    param = field_path((*within, *problem["loc"]))
    message = problem["msg"]
    if problem["type"] == "extra_forbidden":
        message = "unrecognized parameter"
    if problem["type"] == "missing":
        message = "is required"
    return InvalidRequest(f"{param}: {message}" if param else message, param=param or None)


def field_path(location: tuple[int | str, ...]) -> str:
    """``('messages', 0, 'content')`` as ``messages[0].content``.

    Pydantic adds the name of each union member it tried to the location;
    those are not fields the client wrote, so they are left out.
    """
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _is_union_tag(part):
            continue
        else:
            path += f".{part}" if path else part
    return path


def _is_union_tag(part: str) -> bool:
    return any(marker in part for marker in ("[", "(", "-")) or part in {"str", "int", "float", "bool", "dict"}


class SimpleChatBody(_Strict):
    """The browser dialect's body: OpenAI-style ``messages`` or a single ``prompt``."""

    model: str = Field(min_length=1)
    messages: list[ChatMessage] | None = Field(default=None, min_length=1)
    prompt: str | None = Field(default=None, min_length=1)
    max_tokens: TokenCount | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)

    @model_validator(mode="after")
    def _one_of_messages_or_prompt(self) -> SimpleChatBody:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("give exactly one of messages or prompt")
        return self

    def to_chat_request(self) -> ChatRequest:
        """The equivalent streaming Chat Completions request, usage included."""
        messages = self.messages or [ChatMessage(role="user", content=self.prompt)]
        return ChatRequest(
            model=self.model,
            messages=messages,
            stream=True,
            stream_options=StreamOptions(include_usage=True),
            max_tokens=self.max_tokens,
            temperature=self.temperature,
        )


def parse_simple_chat_request(raw: bytes) -> ChatRequest:
    """Parse the browser dialect's body into a streaming ``ChatRequest``."""
    document = load_object(raw)
    try:
        return SimpleChatBody.model_validate(document).to_chat_request()
    except ValidationError as exc:
        raise validation_error_to_invalid_request(exc) from None
