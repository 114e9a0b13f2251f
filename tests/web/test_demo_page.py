"""The demo page in headless Chromium, against the relay and the Azure emulator.

What a person would check by hand: the answer grows while it streams, the
final text is exactly what the model sent (Japanese and emoji included), and
Stop really closes the upstream connection, as the emulator records.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, Request

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import DEFAULT_TEXT, Scenario, inline_prompt
from tests.builders import AZURE_TEST_KEY, RELAY_TEST_KEY, TEST_AUTH, serve_relay, single_azure_config
from tests.web.conftest import ARTIFACTS

JAPANESE = "東京の天気は晴れ☀️、気温は18℃です。café 👨‍👩‍👧 🎉 — ストリーミング完了🚀"
LAST_ANSWER = ".turn.assistant:last-of-type .text"

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


class DemoPage:
    """The demo chat page, driven the way a person uses it."""

    def __init__(self, page: Page, relay_url: str) -> None:
        self.page = page
        page.goto(f"{relay_url}/api/ui")
        page.wait_for_function("() => document.querySelector('#model').value === 'azure'")

    def send(self, prompt: str, *, dialect: str = "events", press_enter: bool = False) -> None:
        self.page.select_option("#dialect", dialect)
        self.page.fill("#prompt", prompt)
        if press_enter:
            self.page.press("#prompt", "Enter")
        else:
            self.page.click("#send")

    def wait_for(self, state: str) -> None:
        self.page.wait_for_selector(f"#status[data-state='{state}']")

    def answer(self) -> str:
        return self.page.text_content(LAST_ANSWER) or ""

    def text(self, selector: str) -> str:
        return self.page.text_content(selector) or ""

    def watch(self) -> None:
        self.page.evaluate(WATCH_ANSWER)

    def snapshots(self) -> list[dict[str, Any]]:
        return self.page.evaluate("window.__snapshots")  # type: ignore[no-any-return]


@pytest.fixture
def demo_relay_url(azure: AzureOpenAIEmulator) -> Iterator[str]:
    """A relay configured like ``make dev``: anonymous callers allowed, relay keys checked.

    One per test: a scripted 429 must not cool the backend down for later tests.
    """
    config = {**single_azure_config(azure), "auth": {**TEST_AUTH, "allow_anonymous": True}}
    with serve_relay(config, {"AZURE_TEST_KEY": AZURE_TEST_KEY}) as url:
        yield url


@pytest.fixture
def demo(page: Page, demo_relay_url: str) -> DemoPage:
    return DemoPage(page, demo_relay_url)


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_the_model_picker_lists_the_relay_aliases(demo: DemoPage) -> None:
    options = demo.page.eval_on_selector_all("#model option", "options => options.map(o => o.value)")
    assert options == ["azure"]


def test_the_answer_appears_incrementally(demo: DemoPage) -> None:
    demo.watch()
    demo.send(inline_prompt(chunks=16, delay_ms=60), press_enter=True)
    demo.wait_for("done")
    final = demo.answer()
    assert final == DEFAULT_TEXT
    streaming = [s for s in demo.snapshots() if s["state"] == "streaming" and s["text"] and s["text"] != final]
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
    assert demo.text("#finish") == "stop"


def test_time_to_first_token_and_usage_are_shown(demo: DemoPage) -> None:
    demo.send(inline_prompt(first_delay_ms=300, chunks=4, prompt_tokens=7, completion_tokens=16))
    demo.wait_for("done")
    ttft = re.fullmatch(r"(\d+) ms", demo.text("#ttft"))
    assert ttft is not None and 300 <= int(ttft.group(1)) < 5000
    assert demo.text("#usage") == "7 prompt + 16 completion = 23"


def test_stop_closes_the_upstream_connection(demo: DemoPage, azure: AzureOpenAIEmulator) -> None:
    demo.send("こんにちは")
    demo.wait_for("done")
    slow = Scenario(chunks=120, delay_ms=50)
    long_text = "".join(slow.text_pieces())
    demo.send(inline_prompt(chunks=slow.chunks, delay_ms=slow.delay_ms))
    demo.page.wait_for_function("(s) => document.querySelector(s).textContent.length >= 40", arg=LAST_ANSWER)
    ARTIFACTS.mkdir(exist_ok=True)
    demo.page.screenshot(path=str(ARTIFACTS / "demo-midstream.png"), animations="disabled")
    demo.page.click("#stop")
    demo.wait_for("stopped")
    record = azure.recorder.records[-1]
    assert wait_until(lambda: record.client_disconnected, timeout=2), "the emulator never saw the upstream close"
    assert record.outcome == "disconnected" and record.frames_sent < len(long_text)
    partial = demo.answer()
    assert partial and long_text.startswith(partial) and partial != long_text
    assert demo.page.is_disabled("#stop") and demo.page.is_enabled("#send")
    sent = [(m["role"], m["content"]) for m in record.body["messages"]]
    assert sent[:2] == [("user", "こんにちは"), ("assistant", DEFAULT_TEXT)], "the page keeps the conversation"


def test_a_mid_stream_error_is_shown_and_the_partial_text_kept(demo: DemoPage) -> None:
    demo.send(inline_prompt(chunks=8, error_after=5))
    demo.wait_for("error")
    assert "server_error" in demo.text("#status") and "retry" in demo.text("#status")
    assert DEFAULT_TEXT.startswith(demo.answer())
    assert "failed" in (demo.page.get_attribute(".turn.assistant:last-of-type", "class") or "")


def test_an_upstream_429_shows_retry_after(demo: DemoPage) -> None:
    demo.send(inline_prompt(status=429, retry_after=3))
    demo.wait_for("error")
    assert demo.text("#status") == (
        "Error (rate_limit_exceeded): every backend for model 'azure' is rate limited; retry after 3 s. Retry in 3 s."
    )


def test_the_api_key_is_sent_to_the_relay_and_kept_nowhere(demo: DemoPage, azure: AzureOpenAIEmulator) -> None:
    requests: list[Request] = []
    demo.page.on("request", lambda request: requests.append(request))
    demo.page.fill("#api-key", RELAY_TEST_KEY)
    demo.send("hi")
    demo.wait_for("done")
    chat = next(r for r in requests if r.url.endswith("/api/chat"))
    assert chat.headers["authorization"] == f"Bearer {RELAY_TEST_KEY}"
    assert azure.recorder.records[-1].auth == "api-key", "the upstream sees the relay's key, not the browser's"
    stored = demo.page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]")
    assert stored == [0, 0, ""]
