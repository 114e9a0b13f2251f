"""Request policy: the rules one request must meet, and the request as it is forwarded.

Rules come from the caller's profile, tightened by the alias's rules and by a
browser token's own ceiling. A request that breaks a rule is refused with an
error naming the parameter; nothing is silently dropped. What the relay adds
(a forced system prompt, the output ceiling when the client set none) is
added to the request it forwards, so the upstream enforces the ceiling too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import overload

from ..chat_request import ChatMessage, ChatRequest
from ..errors import InvalidRequest, PayloadTooLarge
from .settings import PolicySettings, Rules

ALWAYS_ALLOWED = frozenset({"model", "messages", "stream", "stream_options"})
CLIENT_PARAMETERS = tuple(name for name in ChatRequest.model_fields if name not in ALWAYS_ALLOWED)
OUTPUT_LIMITS = ("max_tokens", "max_completion_tokens")
SYSTEM_ROLES = frozenset({"system", "developer"})
DEFAULT_MAX_TOKENS = 4096
DEFAULT_MAX_MESSAGES = 256


@dataclass(frozen=True)
class Policy:
    """The resolved rules for one request."""

    allowed_parameters: frozenset[str] | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    max_messages: int = DEFAULT_MAX_MESSAGES
    max_body_bytes: int | None = None
    system_prompts: tuple[str, ...] = ()
    client_system_messages: bool = True

    def prompt_bytes(self) -> int:
        """Bytes the forced system prompts add to every request."""
        return sum(len(prompt.encode()) for prompt in self.system_prompts)


def resolve(settings: PolicySettings, profile: str, alias: str, ceiling: int | None = None) -> Policy:
    """The strictest combination of the profile's rules, the alias's rules and ``ceiling``."""
    base = settings.profiles.get(profile) or settings.profiles.get("default") or Rules()
    layers = [base, settings.aliases.get(alias) or Rules()]
    allowed = [frozenset(rules.allowed_parameters) for rules in layers if rules.allowed_parameters is not None]
    return Policy(
        allowed_parameters=frozenset.intersection(*allowed) if allowed else None,
        max_tokens=_smallest([*(rules.max_tokens for rules in layers), ceiling], DEFAULT_MAX_TOKENS),
        max_messages=_smallest([rules.max_messages for rules in layers], DEFAULT_MAX_MESSAGES),
        max_body_bytes=_smallest([rules.max_body_bytes for rules in layers], None),
        system_prompts=tuple(rules.system_prompt for rules in layers if rules.system_prompt),
        client_system_messages=all(rules.client_system_messages is not False for rules in layers),
    )


def enforce(chat: ChatRequest, policy: Policy, body_size: int) -> ChatRequest:
    """Refuse a request that breaks ``policy``; return the request to forward."""
    if policy.max_body_bytes is not None and body_size > policy.max_body_bytes:
        raise PayloadTooLarge(f"request body is larger than {policy.max_body_bytes} bytes")
    _check_parameters(chat, policy)
    _check_output_limits(chat, policy.max_tokens)
    _check_messages(chat, policy)
    return _forwarded(chat, policy)


def _check_parameters(chat: ChatRequest, policy: Policy) -> None:
    if policy.allowed_parameters is None:
        return
    for name in CLIENT_PARAMETERS:
        if name in chat.model_fields_set and name not in policy.allowed_parameters:
            raise InvalidRequest(f"{name}: is not a parameter this client may set", param=name)


def _check_output_limits(chat: ChatRequest, ceiling: int) -> None:
    for name in OUTPUT_LIMITS:
        value = getattr(chat, name)
        if value is not None and value > ceiling:
            raise InvalidRequest(f"{name}: must be at most {ceiling} for this client", param=name)


def _check_messages(chat: ChatRequest, policy: Policy) -> None:
    if len(chat.messages) > policy.max_messages:
        raise InvalidRequest(f"messages: at most {policy.max_messages} messages are allowed", param="messages")
    if policy.client_system_messages:
        return
    for index, message in enumerate(chat.messages):
        if message.role in SYSTEM_ROLES:
            param = f"messages[{index}].role"
            raise InvalidRequest(f"{param}: {message.role} messages are set by the relay, not clients", param=param)


def _forwarded(chat: ChatRequest, policy: Policy) -> ChatRequest:
    update: dict[str, object] = {}
    if policy.system_prompts:
        forced = [ChatMessage(role="system", content=prompt) for prompt in policy.system_prompts]
        update["messages"] = [*forced, *chat.messages]
    if chat.output_token_limit is None:
        update["max_completion_tokens"] = policy.max_tokens
    return chat.model_copy(update=update) if update else chat


@overload
def _smallest(values: Iterable[int | None], default: int) -> int: ...
@overload
def _smallest(values: Iterable[int | None], default: None) -> int | None: ...
def _smallest(values: Iterable[int | None], default: int | None) -> int | None:
    present = [value for value in values if value is not None]
    return min(present) if present else default
