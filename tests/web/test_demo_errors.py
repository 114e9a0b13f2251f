"""Failed replies say what happened where the user is looking, and can be retried.

Errors come from the real relay and the Azure emulator: a scripted 429 with
Retry-After, a stream that fails after a few frames, and a key the relay refuses.
"""

from __future__ import annotations

import time

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import DEFAULT_TEXT
from tests.web.demo_driver import LAST_REPLY, DemoPage

REPLIES = "#transcript article.assistant"


def sent_messages(azure: AzureOpenAIEmulator) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in azure.recorder.records[-1].body["messages"]]


def test_a_429_says_when_to_retry_and_retry_resends_the_same_prompt(demo: DemoPage, azure: AzureOpenAIEmulator) -> None:
    azure.book.set("*", {"status": 429, "retry_after": 1})
    demo.send("What is the capital of France?")
    demo.wait_for("error")
    assert demo.text(f"{LAST_REPLY} h2") == "Assistant — failed"
    assert demo.text(f"{LAST_REPLY} .error-title") == "Too many requests: the model is rate limited."
    assert "(rate_limit_exceeded, HTTP 429)" in demo.text(f"{LAST_REPLY} .error-detail")
    assert demo.text(f"{LAST_REPLY} .error-advice") == "Retrying may work after 1 s."
    assert demo.text("#alert") == "Failed: Too many requests: the model is rate limited.", "errors are announced"
    assert demo.text("#prompt") == "", "the prompt box is free for the next message"
    demo.shoot("demo-error-429")
    azure.book.clear()
    time.sleep(1.2)  # the relay keeps the backend cooling down for the Retry-After it was given
    retry = demo.page.locator(f"{LAST_REPLY} button.retry")
    retry.focus()
    demo.page.keyboard.press("Enter")
    demo.wait_for("done")
    assert demo.answer() == DEFAULT_TEXT
    assert sent_messages(azure) == [("user", "What is the capital of France?")], "the same prompt, once"
    outcomes = demo.page.eval_on_selector_all(REPLIES, "nodes => nodes.map(n => n.dataset.outcome)")
    assert outcomes == ["failed", "done"], "the error stays in the history"
    assert demo.page.locator(".turn.user").count() == 1


def test_a_mid_stream_failure_keeps_the_partial_text_and_can_be_retried(
    demo: DemoPage, azure: AzureOpenAIEmulator
) -> None:
    azure.book.set("*", {"chunks": 8, "error_after": 5})
    demo.send("Tell me a story")
    demo.wait_for("error")
    partial = demo.answer()
    assert partial and DEFAULT_TEXT.startswith(partial) and partial != DEFAULT_TEXT
    assert demo.text(f"{LAST_REPLY} h2") == "Assistant — failed"
    assert demo.text(f"{LAST_REPLY} .error-advice").startswith("Retrying may work")
    demo.shoot("demo-error-midstream")
    azure.book.clear()
    demo.page.click(f"{LAST_REPLY} button.retry")
    demo.wait_for("done")
    assert sent_messages(azure) == [("user", "Tell me a story")], "a failed reply is not sent back as context"
    demo.send("And another?")
    demo.wait_for("done")
    outcomes = demo.page.eval_on_selector_all(REPLIES, "nodes => nodes.map(n => n.dataset.outcome)")
    assert outcomes == ["failed", "done", "done"]
    first = f"{REPLIES}[data-outcome='failed']"
    assert demo.text(f"{first} .text") == partial and demo.page.is_hidden(f"{first} button.retry")
    assert sent_messages(azure) == [
        ("user", "Tell me a story"),
        ("assistant", DEFAULT_TEXT),
        ("user", "And another?"),
    ]


def test_a_wrong_key_is_reported_next_to_the_key_field(demo: DemoPage) -> None:
    demo.open_settings()
    demo.page.fill("#api-key", "not-a-relay-key")
    demo.page.press("#api-key", "Enter")
    note = demo.page.locator("#key-note")
    note.wait_for(state="visible")
    assert note.inner_text().startswith("This key was refused: the relay refused the key (HTTP 401).")
    assert demo.page.get_attribute("#api-key", "aria-invalid") == "true"
    assert demo.page.get_attribute("#api-key", "aria-describedby") == "key-note"
    demo.page.fill("#prompt", "hello")
    demo.page.press("#prompt", "Enter")
    demo.wait_for("error")
    assert demo.text("#status").startswith("No model to send to"), "Send never does nothing silently"
    demo.shoot("demo-error-wrong-key")
    demo.page.fill("#api-key", "")
    demo.page.press("#api-key", "Enter")
    note.wait_for(state="hidden")
    assert demo.page.get_attribute("#api-key", "aria-invalid") == "false"


def test_a_key_refused_mid_conversation_fails_the_reply_and_flags_the_key(demo: DemoPage) -> None:
    demo.page.evaluate("document.querySelector('#api-key').value = 'not-a-relay-key'")  # typed, not yet committed
    demo.send("hello")
    demo.wait_for("error")
    assert demo.text(f"{LAST_REPLY} .error-title") == "The relay did not accept the key."
    assert demo.text(f"{LAST_REPLY} .error-advice") == "Retrying the same request will not help."
    assert demo.page.locator("#key-note").inner_text().startswith("This key was refused")
