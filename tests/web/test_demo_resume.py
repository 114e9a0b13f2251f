"""The demo page resumes a reply that a reload cut off, and Stop still stops generation.

The page opts into resumable streams, saves each reply's stream id and last
event id with the conversation, and after a reload asks the relay for the
events after that id: the answer must end exactly as the emulator sent it,
nothing lost and nothing repeated, with the emulator seeing one request only.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, Request

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import Scenario, inline_prompt
from devtools.processes import free_port
from tests.builders import AZURE_TEST_KEY, RELAY_TEST_KEY, TEST_AUTH, serve_relay, single_azure_config
from tests.web.demo_driver import LAST_ANSWER, LAST_REPLY, DemoPage, wait_until

SLOW = Scenario(chunks=60, delay_ms=40, prompt_tokens=9, completion_tokens=60)
SLOW_TEXT = "".join(SLOW.text_pieces())
SLOW_PROMPT = inline_prompt(chunks=SLOW.chunks, delay_ms=SLOW.delay_ms, prompt_tokens=9, completion_tokens=60)


def grows_to(demo: DemoPage, length: int) -> None:
    demo.page.wait_for_function(
        "([s, n]) => document.querySelector(s).textContent.length >= n", arg=[LAST_ANSWER, length]
    )


def saved_reply(demo: DemoPage) -> dict[str, object]:
    turns: list[dict[str, object]] = json.loads(demo.page.evaluate("sessionStorage.getItem('relay-demo:conversation')"))
    return turns[-1]


@pytest.mark.parametrize("dialect", ["events", "openai"])
def test_a_reload_mid_answer_resumes_it_exactly(demo: DemoPage, azure: AzureOpenAIEmulator, dialect: str) -> None:
    requests: list[Request] = []
    demo.page.on("request", lambda request: requests.append(request))
    demo.send(SLOW_PROMPT, dialect=dialect)
    grows_to(demo, 12)
    assert saved_reply(demo)["streamId"], "the stream id is saved as soon as the response starts"
    demo.page.reload()
    demo.wait_for("done")
    assert demo.answer() == SLOW_TEXT, "the resumed answer lost or repeated text"
    assert demo.page.get_attribute(LAST_REPLY, "data-outcome") == "done"
    assert demo.text(f"{LAST_REPLY} h2") == "Assistant"
    assert demo.meta("model") == "azure" and demo.meta("backend") == "azure-east"
    assert re.fullmatch(r"\d+ ms", demo.meta("ttft"))
    assert demo.meta("usage") == "9 prompt + 60 completion = 69"
    resumes = [r for r in requests if r.method == "GET" and "/api/v1/streams/" in r.url]
    assert len(resumes) == 1 and int(resumes[0].headers["last-event-id"]) >= 1, "resumed after the saved event"
    assert len(azure.recorder.records) == 1, "the model was asked once; the reload did not resend the prompt"
    assert saved_reply(demo)["text"] == SLOW_TEXT and saved_reply(demo)["outcome"] == "done"
    demo.shoot(f"demo-resumed-after-reload-{dialect}")
    assert demo.serious_violations() == []


def test_a_reload_before_the_answer_starts_resumes_from_the_first_event(
    demo: DemoPage, azure: AzureOpenAIEmulator
) -> None:
    demo.send(inline_prompt(first_delay_ms=1500, chunks=5, delay_ms=20))
    demo.page.wait_for_function("() => JSON.parse(sessionStorage.getItem('relay-demo:conversation')).at(-1).streamId")
    demo.page.reload()
    demo.wait_for("done")
    demo.wait_for("done")
    assert demo.answer() == "".join(Scenario(chunks=5).text_pieces())
    assert re.fullmatch(r"\d+ ms", demo.meta("ttft"))
    assert int(demo.meta("ttft").split()[0]) >= 1500, "time to first token is measured from the original request"
    assert len(azure.recorder.records) == 1


def test_stop_cancels_the_generation_with_delete(demo: DemoPage, azure: AzureOpenAIEmulator) -> None:
    deletes: list[Request] = []
    demo.page.on("request", lambda r: deletes.append(r) if r.method == "DELETE" else None)
    demo.send(SLOW_PROMPT)
    grows_to(demo, 10)
    stream_id = saved_reply(demo)["streamId"]
    demo.page.click("#stop")
    demo.wait_for("stopped")
    record = azure.recorder.records[-1]
    assert wait_until(lambda: record.client_disconnected, timeout=3), "the upstream kept generating after Stop"
    assert record.frames_sent < SLOW.chunks
    assert [r.url for r in deletes] == [f"{demo.url.removesuffix('/ui')}/v1/streams/{stream_id}"]
    assert saved_reply(demo)["streamId"] is None, "a stopped reply is not resumed by the next load"


def test_stop_after_a_reload_cancels_the_resumed_generation(demo: DemoPage, azure: AzureOpenAIEmulator) -> None:
    demo.send(SLOW_PROMPT)
    grows_to(demo, 10)
    stream_id = saved_reply(demo)["streamId"]
    demo.page.reload()
    demo.page.wait_for_selector("#status[data-state='streaming']")
    deletes: list[Request] = []
    demo.page.on("request", lambda r: deletes.append(r) if r.method == "DELETE" else None)
    grows_to(demo, len(demo.answer()) + 5)
    demo.page.click("#stop")
    demo.wait_for("stopped")
    record = azure.recorder.records[-1]
    assert wait_until(lambda: record.client_disconnected, timeout=3), "the upstream kept generating after Stop"
    assert record.frames_sent < SLOW.chunks
    assert [r.url for r in deletes] == [f"{demo.url.removesuffix('/ui')}/v1/streams/{stream_id}"]
    partial = demo.answer()
    assert SLOW_TEXT.startswith(partial) and partial != SLOW_TEXT
    assert demo.text(f"{LAST_REPLY} h2") == "Assistant — stopped"


# Runs before the page's modules on the next load, once: the saved reply's stream
# becomes one the relay does not know, as after it expired or the relay restarted.
FORGET_STREAM = """
if (!sessionStorage.getItem("test:forgotten")) {
  sessionStorage.setItem("test:forgotten", "1");
  const turns = JSON.parse(sessionStorage.getItem("relay-demo:conversation"));
  turns.at(-1).streamId = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  sessionStorage.setItem("relay-demo:conversation", JSON.stringify(turns));
}
"""


def test_a_resume_the_relay_does_not_know_shows_the_error_with_retry(
    demo: DemoPage, azure: AzureOpenAIEmulator
) -> None:
    demo.send(SLOW_PROMPT)
    grows_to(demo, 10)
    demo.page.add_init_script(FORGET_STREAM)
    demo.page.reload()
    demo.wait_for("error")
    partial = demo.answer()
    assert partial and SLOW_TEXT.startswith(partial) and partial != SLOW_TEXT, "the part received stays readable"
    assert demo.page.get_attribute(LAST_REPLY, "data-outcome") == "failed"
    assert demo.text(f"{LAST_REPLY} h2") == "Assistant — failed"
    assert demo.text(f"{LAST_REPLY} .error-title").startswith("The rest of this answer could not be resumed")
    assert "(not_found, HTTP 404)" in demo.text(f"{LAST_REPLY} .error-detail")
    assert demo.text(f"{LAST_REPLY} .error-advice") == "Retry asks the model again from the start."
    assert demo.text("#alert").startswith("Failed: The rest of this answer could not be resumed")
    demo.shoot("demo-resume-unknown-stream")
    assert demo.serious_violations() == []
    demo.page.wait_for_function("() => document.querySelector('#model').value === 'azure'")
    azure.book.set("*", {"chunks": 3})
    demo.page.click(f"{LAST_REPLY} .retry")
    demo.wait_for("done")
    assert demo.page.get_attribute(LAST_REPLY, "data-outcome") == "done"
    assert demo.page.locator("#transcript article.assistant").count() == 2
    assert azure.recorder.records[-1].body["messages"][-1]["content"] == SLOW_PROMPT, "Retry resent the prompt"


def test_a_stream_opened_with_a_key_the_page_no_longer_holds_is_not_resumed(demo: DemoPage) -> None:
    demo.open_settings()
    demo.page.fill("#api-key", RELAY_TEST_KEY)
    demo.send(SLOW_PROMPT)
    grows_to(demo, 10)
    demo.page.reload()
    demo.wait_for("error")
    assert demo.page.input_value("#api-key") == "", "the key was not remembered, so the resume is anonymous"
    assert "(not_found, HTTP 404)" in demo.text(f"{LAST_REPLY} .error-detail"), "another identity gets a 404"


def test_a_reply_cut_off_before_its_response_started_is_shown_as_stopped(demo: DemoPage) -> None:
    demo.send(inline_prompt(headers_delay_ms=3000, chunks=3))
    demo.page.wait_for_selector("#status[data-state='streaming']")
    demo.page.reload()
    demo.page.wait_for_selector("#transcript article.assistant")
    assert demo.page.get_attribute(LAST_REPLY, "data-outcome") == "stopped", (
        "with no stream id there is nothing to resume"
    )
    assert demo.text(f"{LAST_REPLY} h2") == "Assistant — stopped"
    assert demo.text("#status") == "Ready."


def test_a_relay_that_cannot_record_streams_still_answers_without_the_opt_in(
    page: Page, azure: AzureOpenAIEmulator
) -> None:
    dead_storage = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"TableEndpoint=http://127.0.0.1:{free_port()}/devstoreaccount1;"
    )
    config = {
        **single_azure_config(azure),
        "auth": {**TEST_AUTH, "allow_anonymous": True},
        "resumable": {"store": "table"},
    }
    chats: list[Request] = []
    page.on("request", lambda r: chats.append(r) if r.url.endswith("/api/chat") else None)
    with serve_relay(config, {"AZURE_TEST_KEY": AZURE_TEST_KEY, "AzureWebJobsStorage": dead_storage}) as url:
        demo = DemoPage(page, url)
        demo.send(inline_prompt(chunks=4))
        demo.wait_for("done")
        assert demo.answer() == "".join(Scenario(chunks=4).text_pieces())
    assert [r.headers.get("x-relay-resumable") for r in chats] == ["1", None], "refused opt-in, then plain"
