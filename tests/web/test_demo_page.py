"""The demo page in headless Chromium, against the relay and the Azure emulator.

What a person would check by hand: the answer grows while it streams, the
final text is exactly what the model sent (Japanese and emoji included), each
reply names its model, backend, time to first token and tokens, and Stop
really closes the upstream connection, as the emulator records.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Request

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import DEFAULT_TEXT, Scenario, inline_prompt
from tests.builders import RELAY_TEST_KEY
from tests.web.demo_driver import LAST_ANSWER, LAST_REPLY, DemoPage, storage_dump, wait_until

JAPANESE = "東京の天気は晴れ☀️、気温は18℃です。café 👨‍👩‍👧 🎉 — ストリーミング完了🚀"

# Records the last answer's text and the status after every DOM change, so a
# test can see each intermediate state rather than only the final one.
WATCH_ANSWER = """() => {
  window.__snapshots = [];
  const transcript = document.getElementById("transcript");
  const status = document.getElementById("status");
  new MutationObserver(() => {
    const answers = transcript.querySelectorAll(".turn.assistant .text");
    const last = answers[answers.length - 1];
    window.__snapshots.push({text: last ? last.textContent : "", state: status.dataset.state, at: performance.now()});
  }).observe(transcript, {subtree: true, childList: true, characterData: true});
}"""


def test_the_model_picker_lists_the_relay_aliases(demo: DemoPage) -> None:
    options = demo.page.eval_on_selector_all("#model option", "options => options.map(o => o.value)")
    assert options == ["azure"]


def test_the_answer_appears_incrementally(demo: DemoPage) -> None:
    demo.page.evaluate(WATCH_ANSWER)
    demo.send(inline_prompt(chunks=16, delay_ms=60), press_enter=True)
    demo.wait_for("done")
    final = demo.answer()
    assert final == DEFAULT_TEXT
    snapshots = demo.page.evaluate("window.__snapshots")
    streaming = [s for s in snapshots if s["state"] == "streaming" and s["text"] and s["text"] != final]
    distinct = list(dict.fromkeys(s["text"] for s in streaming))
    assert len(distinct) >= 8, f"expected the answer to grow in steps, saw {distinct}"
    assert all(final.startswith(text) for text in distinct)
    assert [len(text) for text in distinct] == sorted(len(text) for text in distinct)
    assert streaming[-1]["at"] - streaming[0]["at"] > 400, "the steps were not spread over the stream"


@pytest.mark.parametrize("dialect", ["events", "openai"])
def test_the_final_text_is_exact_in_both_dialects(demo: DemoPage, dialect: str) -> None:
    demo.send(inline_prompt(text=JAPANESE, chunks=23), dialect=dialect)
    demo.wait_for("done")
    assert demo.answer() == JAPANESE
    assert demo.meta("finish") == "stop"


def test_each_reply_names_its_model_backend_first_token_time_and_tokens(demo: DemoPage) -> None:
    demo.send(inline_prompt(first_delay_ms=300, chunks=4, prompt_tokens=7, completion_tokens=16, cached_tokens=3))
    demo.wait_for("done")
    assert demo.meta("model") == "azure"
    assert demo.meta("backend") == "azure-east", "from the relay's x-relay-backend header"
    ttft = re.fullmatch(r"(\d+) ms", demo.meta("ttft"))
    assert ttft is not None and 300 <= int(ttft.group(1)) < 5000
    assert demo.meta("usage") == "7 prompt (3 cached) + 16 completion = 23"
    demo.send(inline_prompt(chunks=2, prompt_tokens=5, completion_tokens=2), dialect="openai")
    demo.wait_for("done")
    usages = demo.page.eval_on_selector_all(".meta dd[data-field='usage']", "nodes => nodes.map(n => n.textContent)")
    assert usages == ["7 prompt (3 cached) + 16 completion = 23", "5 prompt + 2 completion = 7"], (
        "each turn keeps its own"
    )


def test_stop_closes_the_upstream_connection(demo: DemoPage, azure: AzureOpenAIEmulator) -> None:
    demo.send("こんにちは")
    demo.wait_for("done")
    slow = Scenario(chunks=120, delay_ms=50)
    long_text = "".join(slow.text_pieces())
    demo.send(inline_prompt(chunks=slow.chunks, delay_ms=slow.delay_ms))
    demo.page.wait_for_function("(s) => document.querySelector(s).textContent.length >= 40", arg=LAST_ANSWER)
    demo.shoot("demo-midstream")
    demo.page.press("#prompt", "Escape")
    demo.wait_for("stopped")
    record = azure.recorder.records[-1]
    assert wait_until(lambda: record.client_disconnected, timeout=2), "the emulator never saw the upstream close"
    assert record.outcome == "disconnected" and record.frames_sent < len(long_text)
    partial = demo.answer()
    assert partial and long_text.startswith(partial) and partial != long_text
    assert demo.text(f"{LAST_REPLY} h2") == "Assistant — stopped", "stopped is said in words, not only by a border"
    assert demo.text(f"{LAST_REPLY} .error-title") == "Stopped before the answer was complete."
    assert demo.page.is_disabled("#stop") and demo.page.is_enabled("#send")
    demo.shoot("demo-stopped")
    sent = [(m["role"], m["content"]) for m in record.body["messages"]]
    assert sent[:2] == [("user", "こんにちは"), ("assistant", DEFAULT_TEXT)], "the page keeps the conversation"


def test_the_stop_button_stops_too(demo: DemoPage, azure: AzureOpenAIEmulator) -> None:
    demo.send(inline_prompt(chunks=100, delay_ms=50))
    demo.page.wait_for_function("(s) => document.querySelector(s).textContent.length >= 10", arg=LAST_ANSWER)
    demo.page.click("#stop")
    demo.wait_for("stopped")
    assert wait_until(lambda: azure.recorder.records[-1].client_disconnected, timeout=2)


def test_the_api_key_is_sent_to_the_relay_and_kept_nowhere(demo: DemoPage, azure: AzureOpenAIEmulator) -> None:
    requests: list[Request] = []
    demo.page.on("request", lambda request: requests.append(request))
    demo.open_settings()
    demo.page.fill("#api-key", RELAY_TEST_KEY)
    demo.send("hi")
    demo.wait_for("done")
    chat = next(r for r in requests if r.url.endswith("/api/chat"))
    assert chat.headers["authorization"] == f"Bearer {RELAY_TEST_KEY}"
    assert azure.recorder.records[-1].auth == "api-key", "the upstream sees the relay's key, not the browser's"
    stored = storage_dump(demo.page)
    assert "hi" in stored, "the conversation is in session storage"
    assert RELAY_TEST_KEY not in stored
    assert demo.page.evaluate("[localStorage.length, document.cookie]") == [0, ""]
