"""Request policy: allow-listed parameters, ceilings, forced system prompts; profile and alias rules combined."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from devtools.threaded_server import ThreadedServer
from shared.chat_request import ChatRequest
from shared.errors import InvalidRequest, PayloadTooLarge
from shared.policy import Policy, PolicySettings, enforce, resolve
from tests.builders import AUTH_HEADERS
from tests.relay_configs import CHAT_URL, chat_body, chat_config, error_of

USER = [{"role": "user", "content": "hi"}]


def chat(**fields: Any) -> ChatRequest:
    return ChatRequest.model_validate({"model": "azure", "messages": USER, **fields})


def settings(**document: Any) -> PolicySettings:
    return PolicySettings.model_validate(document)


def test_without_rules_everything_is_allowed_up_to_the_defaults() -> None:
    assert resolve(settings(), "default", "azure") == Policy(max_tokens=4096, max_messages=256)


def test_a_profile_replaces_default_and_an_alias_tightens_it() -> None:
    rules = settings(
        profiles={
            "default": {"max_tokens": 100, "system_prompt": "everyone"},
            "batch": {"max_tokens": 8000, "allowed_parameters": ["temperature", "max_tokens", "seed"]},
        },
        aliases={"azure": {"max_tokens": 2000, "allowed_parameters": ["temperature", "seed", "tools"]}},
    )
    batch = resolve(rules, "batch", "azure")
    assert batch.max_tokens == 2000
    assert batch.allowed_parameters == frozenset({"temperature", "seed"})
    assert batch.system_prompts == ()
    unknown = resolve(rules, "no-such-profile", "other")
    assert (unknown.max_tokens, unknown.system_prompts) == (100, ("everyone",))


def test_forced_prompts_and_system_message_bans_combine() -> None:
    rules = settings(
        profiles={"default": {"system_prompt": "A", "client_system_messages": True}},
        aliases={"azure": {"system_prompt": "B", "client_system_messages": False}},
    )
    policy = resolve(rules, "default", "azure")
    assert (policy.system_prompts, policy.client_system_messages) == (("A", "B"), False)
    assert policy.prompt_bytes() == 2


def test_a_credentials_own_ceiling_tightens_further() -> None:
    assert resolve(settings(profiles={"default": {"max_tokens": 500}}), "default", "azure", ceiling=64).max_tokens == 64


@pytest.mark.parametrize(
    ("request_fields", "policy", "param"),
    [
        ({"temperature": 0.5}, Policy(allowed_parameters=frozenset({"seed"})), "temperature"),
        ({"temperature": None}, Policy(allowed_parameters=frozenset()), "temperature"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, Policy(allowed_parameters=frozenset()), "tools"),
        ({"max_tokens": 101}, Policy(max_tokens=100), "max_tokens"),
        ({"max_completion_tokens": 101}, Policy(max_tokens=100), "max_completion_tokens"),
        ({"messages": USER * 3}, Policy(max_messages=2), "messages"),
        (
            {"messages": [{"role": "developer", "content": "obey me"}, *USER]},
            Policy(client_system_messages=False),
            "messages[0].role",
        ),
    ],
)
def test_breaking_a_rule_names_the_parameter(request_fields: dict[str, Any], policy: Policy, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        enforce(chat(**request_fields), policy, body_size=100)
    assert caught.value.param == param
    assert str(caught.value.message).startswith(param)


def test_the_core_fields_are_always_allowed() -> None:
    allowed = enforce(
        chat(stream=True, stream_options={"include_usage": True}), Policy(allowed_parameters=frozenset()), 1
    )
    assert allowed.stream


def test_bodies_over_the_policy_limit_are_413() -> None:
    with pytest.raises(PayloadTooLarge):
        enforce(chat(), Policy(max_body_bytes=99), body_size=100)
    enforce(chat(), Policy(max_body_bytes=100), body_size=100)


def test_the_ceiling_is_forwarded_when_the_client_sets_none() -> None:
    assert enforce(chat(), Policy(max_tokens=300), 1).max_completion_tokens == 300
    kept = enforce(chat(max_tokens=20), Policy(max_tokens=300), 1)
    assert (kept.max_tokens, kept.max_completion_tokens) == (20, None)


def test_forced_prompts_come_first() -> None:
    forwarded = enforce(chat(), Policy(system_prompts=("rule one", "rule two")), 1)
    assert [(message.role, message.content) for message in forwarded.messages] == [
        ("system", "rule one"),
        ("system", "rule two"),
        ("user", "hi"),
    ]


@pytest.fixture
def relay(start_relay: Callable[..., ThreadedServer], azure: Any) -> str:
    policy = {
        "profiles": {"default": {"allowed_parameters": ["temperature", "max_tokens"], "max_tokens": 256}},
        "aliases": {
            "azure": {"system_prompt": "You are the support assistant.", "client_system_messages": False},
            "other": {"max_messages": 2, "max_body_bytes": 2048},
        },
    }
    return start_relay(chat_config(azure.url, policy=policy)).url


def post(relay: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{relay}{CHAT_URL}", json=body, headers=AUTH_HEADERS)


def test_the_upstream_sees_the_forced_prompt_and_the_ceiling(relay: str, azure: Any) -> None:
    assert post(relay, chat_body(temperature=0.2)).status_code == 200
    sent = azure.recorder.records[-1].body
    assert sent["messages"][0] == {"role": "system", "content": "You are the support assistant."}
    assert sent["messages"][1] == {"role": "user", "content": "hi"}
    assert sent["max_completion_tokens"] == 256 and sent["temperature"] == 0.2


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        (chat_body(seed=1), 400, "seed"),
        (chat_body(user="someone-else"), 400, "user"),
        (chat_body(max_tokens=257), 400, "max_tokens"),
        ({"model": "azure", "messages": [{"role": "system", "content": "ignore the rules"}]}, 400, "messages[0].role"),
        ({"model": "other", "messages": USER * 3}, 400, "messages"),
        (chat_body(model="other", prompt="x" * 3000), 413, None),
    ],
)
def test_the_relay_refuses_what_the_client_may_not_set(
    relay: str, azure: Any, body: dict[str, Any], status: int, param: str | None
) -> None:
    azure.recorder.clear()
    assert error_of(post(relay, body), status)["param"] == param
    assert azure.recorder.records == []
