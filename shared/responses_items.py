"""Responses ``input`` items turned into Chat Completions messages.

Each item and each content part is validated by the model for its ``type``
(a message may leave ``type`` out), so a mistake is named by its place:
``input[1].content[0].text``. The translation:

* a message keeps its role; ``input_text``/``output_text`` parts become text,
  ``input_image`` an ``image_url`` part (user messages only), a ``refusal``
  the text the assistant said;
* ``function_call`` items become ``tool_calls`` on an assistant message,
  merged into the assistant turn just before them;
* ``function_call_output`` becomes a ``tool`` message;
* ``reasoning`` items with the relay's ``encrypted_content`` become a signed
  thinking block (text from the item's ``content``) on the assistant turn they
  belong to: the one just before them, or else the next; ``function_call``
  items keep ``extra_content`` (Gemini's signature). Reasoning items without
  ``encrypted_content`` are checked and dropped: no provider takes plain text back;
* ``item_reference`` is refused: the relay keeps no items to refer to.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema

from .chat_request import JsonText, field_path, validation_error_to_invalid_request
from .errors import InvalidRequest
from .reasoning_blocks import decode_encrypted_content
from .reasoning_replay import ExtraContent

Where = tuple[int | str, ...]
# A text or a list of typed objects, each checked by the model for its ``type``. Validated as any list,
# so a stray non-object is named by its index ("input[1]: must be an object") rather than reported as
# "not a valid string"; the published schema still says what belongs there.
TextOrObjects = Annotated[
    str | list[Any],
    WithJsonSchema(
        {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "object", "additionalProperties": True}}]}
    ),
]
Status = Literal["in_progress", "completed", "incomplete"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# The SDKs' stream helpers add what they parsed to the items they hand back (``parsed`` on text,
# ``parsed_arguments`` on calls); a client replaying those items as input is accepted, the copies dropped.
SdkParsed = Any


class TextPart(_Strict):
    type: Literal["input_text", "output_text"]
    text: str
    annotations: list[Any] | None = None
    logprobs: list[Any] | None = None
    parsed: SdkParsed = None


class ImagePart(_Strict):
    type: Literal["input_image"]
    image_url: str = Field(min_length=1, description="An https URL or a data URL; file ids need storage.")
    detail: Literal["auto", "low", "high"] | None = None


class RefusalPart(_Strict):
    type: Literal["refusal"]
    refusal: str


class Message(_Strict):
    type: Literal["message"] = "message"
    role: Literal["user", "system", "developer", "assistant"]
    content: TextOrObjects
    id: str | None = None
    status: Status | None = None
    phase: Literal["commentary", "final_answer"] | None = None


class FunctionCall(_Strict):
    type: Literal["function_call"]
    call_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: JsonText
    id: str | None = None
    status: Status | None = None
    parsed_arguments: SdkParsed = None
    extra_content: ExtraContent | None = None


class FunctionCallOutput(_Strict):
    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1)
    output: TextOrObjects
    id: str | None = None
    status: Status | None = None


class ReasoningItem(_Strict):
    type: Literal["reasoning"]
    id: str | None = None
    summary: list[dict[str, Any]] = Field(default_factory=list)
    content: list[dict[str, Any]] | None = None
    encrypted_content: str | None = None
    status: Status | None = None


ITEMS: dict[str, type[_Strict]] = {
    "message": Message,
    "function_call": FunctionCall,
    "function_call_output": FunctionCallOutput,
    "reasoning": ReasoningItem,
}
PARTS: dict[str, type[_Strict]] = {
    "input_text": TextPart,
    "output_text": TextPart,
    "input_image": ImagePart,
    "refusal": RefusalPart,
}


def translate_input(value: str | list[Any]) -> list[dict[str, Any]]:
    """The chat ``messages`` for a Responses ``input``."""
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    messages: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    for index, document in enumerate(value):
        where: Where = ("input", index)
        if isinstance(document, dict) and document.get("type") == "item_reference":
            raise InvalidRequest(
                f"input[{index}]: item_reference is not supported; the relay keeps no items, send the item itself",
                param=f"input[{index}]",
            )
        item = _validated(ITEMS, document, where, default="message")
        if isinstance(item, ReasoningItem):
            _reasoning(messages, pending, item, where)
        else:
            _append(messages, item, where)
            _attach(messages, pending)
    return messages


def _reasoning(
    messages: list[dict[str, Any]], pending: list[dict[str, Any]], item: ReasoningItem, where: Where
) -> None:
    """A signed reasoning item as a thinking block, for the assistant turn it belongs to."""
    if item.encrypted_content is None:
        return
    try:
        sealed = decode_encrypted_content(item.encrypted_content)
    except ValueError as exc:
        path = field_path((*where, "encrypted_content"))
        raise InvalidRequest(f"{path}: {exc}", param=path) from None
    if "redacted" in sealed:
        block = {"type": "redacted_thinking", "data": sealed["redacted"], "provider": sealed["provider"]}
    else:
        text = "".join(str(part.get("text", "")) for part in item.content or [])
        block = {"type": "thinking", "thinking": text, "signature": sealed["signature"], "provider": sealed["provider"]}
    pending.append(block)
    if messages and messages[-1]["role"] == "assistant" and "tool_calls" not in messages[-1]:
        _attach(messages, pending)


def _attach(messages: list[dict[str, Any]], pending: list[dict[str, Any]]) -> None:
    """Pending thinking blocks onto the latest message, once it is the assistant's."""
    if pending and messages and messages[-1]["role"] == "assistant":
        messages[-1].setdefault("thinking_blocks", []).extend(pending)
        pending.clear()


def _append(messages: list[dict[str, Any]], item: _Strict, where: Where) -> None:
    if isinstance(item, Message):
        messages.append({"role": item.role, "content": _content(item, where)})
    elif isinstance(item, FunctionCall):
        call: dict[str, Any] = {
            "id": item.call_id,
            "type": "function",
            "function": {"name": item.name, "arguments": item.arguments},
        }
        if item.extra_content is not None:
            call["extra_content"] = item.extra_content.model_dump(exclude_none=True)
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant":
            last.setdefault("tool_calls", []).append(call)
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
    elif isinstance(item, FunctionCallOutput):
        messages.append({"role": "tool", "tool_call_id": item.call_id, "content": _output(item, where)})


def _content(message: Message, where: Where) -> str | list[dict[str, Any]]:
    """A string, unless a user message carries images: then chat content parts."""
    if isinstance(message.content, str):
        return message.content
    parts = [_part(document, (*where, "content", index)) for index, document in enumerate(message.content)]
    images = [index for index, part in enumerate(parts) if isinstance(part, ImagePart)]
    if not images:
        return "".join(_text(part) for part in parts)
    if message.role != "user":
        path = field_path((*where, "content", images[0]))
        raise InvalidRequest(f"{path}: only user messages may carry images", param=path)
    return [_chat_part(part) for part in parts]


def _output(item: FunctionCallOutput, where: Where) -> str:
    """A tool's result as text; providers take tool results as text only."""
    if isinstance(item.output, str):
        return item.output
    texts = []
    for index, document in enumerate(item.output):
        part = _part(document, (*where, "output", index))
        if not isinstance(part, TextPart):
            path = field_path((*where, "output", index))
            raise InvalidRequest(f"{path}: a function_call_output may hold text only", param=path)
        texts.append(part.text)
    return "".join(texts)


def _part(document: dict[str, Any], where: Where) -> _Strict:
    return _validated(PARTS, document, where)


def _text(part: _Strict) -> str:
    if isinstance(part, TextPart):
        return part.text
    return part.refusal if isinstance(part, RefusalPart) else ""


def _chat_part(part: _Strict) -> dict[str, Any]:
    if isinstance(part, ImagePart):
        image = {"url": part.image_url, **({"detail": part.detail} if part.detail else {})}
        return {"type": "image_url", "image_url": image}
    return {"type": "text", "text": _text(part)}


def _validated(models: dict[str, type[_Strict]], document: Any, where: Where, default: str | None = None) -> _Strict:
    """``document`` checked by the model for its ``type``, errors named by where it sits in the body."""
    path = field_path(where)
    if not isinstance(document, dict):
        raise InvalidRequest(f"{path}: must be an object", param=path)
    kind = document.get("type", default)
    model = models.get(kind) if isinstance(kind, str) else None
    if model is None:
        known = ", ".join(models)
        raise InvalidRequest(f"{path}.type: must be one of {known}", param=f"{path}.type")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        inner = validation_error_to_invalid_request(exc)
        param = f"{path}.{inner.param}" if inner.param else path
        message = inner.message.removeprefix(f"{inner.param}: ") if inner.param else inner.message
        raise InvalidRequest(f"{param}: {message}", param=param) from None
