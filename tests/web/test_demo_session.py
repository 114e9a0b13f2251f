"""A conversation survives a reload; "New chat" empties it; the key is stored only when asked."""

from __future__ import annotations

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from tests.builders import RELAY_TEST_KEY
from tests.web.demo_driver import LAST_REPLY, DemoPage, storage_dump

REPLIES = "#transcript article.assistant"


def test_the_conversation_survives_a_reload(demo: DemoPage, azure: AzureOpenAIEmulator) -> None:
    demo.send(inline_prompt(text="**Bold** first answer", chunks=3, prompt_tokens=4, completion_tokens=3))
    demo.wait_for("done")
    azure.book.set("*", {"chunks": 8, "error_after": 5})
    demo.send("second question")
    demo.wait_for("error")
    demo.page.reload()
    demo.page.wait_for_selector(f"{REPLIES} >> nth=1")
    assert demo.page.locator("#empty").is_hidden()
    users = demo.page.eval_on_selector_all(".turn.user .text", "nodes => nodes.map(n => n.textContent)")
    assert users[1] == "second question"
    first = "#transcript article:nth-of-type(2)"
    assert demo.text(f"{first} strong") == "Bold", "restored replies are rendered as Markdown"
    assert demo.meta("usage", first) == "4 prompt + 3 completion = 7"
    assert demo.page.get_attribute(LAST_REPLY, "data-outcome") == "failed"
    assert demo.text(f"{LAST_REPLY} .error-advice") == "Retrying may work."
    demo.shoot("demo-reload-restored")
    azure.book.clear()
    demo.page.wait_for_function("() => document.querySelector('#model').value === 'azure'")
    demo.send("third")
    demo.wait_for("done")
    sent = [(m["role"], m["content"]) for m in azure.recorder.records[-1].body["messages"]]
    assert sent[1:] == [("assistant", "**Bold** first answer"), ("user", "second question"), ("user", "third")]


def test_new_chat_restores_the_empty_state(demo: DemoPage) -> None:
    demo.send("hi")
    demo.wait_for("done")
    assert demo.page.locator("#empty").is_hidden()
    demo.page.click("#clear")
    assert demo.page.locator("#empty").is_visible()
    assert demo.page.locator("#transcript article").count() == 0
    assert demo.text("#status") == "Ready."
    assert demo.page.evaluate("document.activeElement.id") == "prompt"
    demo.page.reload()
    demo.page.wait_for_selector("#empty", state="visible")
    assert demo.page.locator("#transcript article").count() == 0, "a new chat is also forgotten by the tab"


def test_the_key_is_remembered_only_when_asked(demo: DemoPage) -> None:
    demo.open_settings()
    demo.page.fill("#api-key", RELAY_TEST_KEY)
    demo.page.press("#api-key", "Enter")
    demo.send("hi")
    demo.wait_for("done")
    demo.page.reload()
    demo.page.wait_for_selector(REPLIES)
    assert demo.page.input_value("#api-key") == ""
    assert RELAY_TEST_KEY not in storage_dump(demo.page)
    demo.open_settings()
    demo.page.fill("#api-key", RELAY_TEST_KEY)
    demo.page.check("#remember")
    demo.page.reload()
    demo.page.wait_for_selector(REPLIES)
    assert demo.page.input_value("#api-key") == RELAY_TEST_KEY and demo.page.is_checked("#remember")
    demo.open_settings()
    demo.page.uncheck("#remember")
    assert RELAY_TEST_KEY not in storage_dump(demo.page), "unticking forgets the key at once"
    assert DEFAULT_TEXT in storage_dump(demo.page)
