"""How the page looks and reaches people: dark theme, a 360 px phone, axe-core, and its weight.

axe-core (web/node_modules, a devDependency) runs inside the page in the
empty, streaming, error and dark states; none may have a serious or critical
violation. The page's transfer size is measured from Chromium's own counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import inline_prompt
from tests.web.demo_driver import ARTIFACTS, LAST_ANSWER, DemoPage

# The page's whole first load (HTML, CSS, modules, vendored libraries, the model list) stays under this.
TRANSFER_BUDGET_BYTES = 250_000
MARKDOWN = "## Shopping\n\n| Item | Qty |\n| --- | --- |\n| tea | 2 |\n\n```bash\necho hello\n```"


@pytest.fixture
def styled_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A tab with the viewport and colour scheme the test's parameters ask for."""
    options: dict[str, Any] = getattr(request, "param", {})
    context = browser.new_context(**{"viewport": {"width": 1000, "height": 720}, **options})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[Exception] = []
    tab.on("pageerror", lambda error: errors.append(error))
    yield tab
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def luminance(page: Page, selector: str, prop: str) -> float:
    """Relative brightness 0..1 of a computed colour."""
    rgb = page.eval_on_selector(
        selector, "(el, p) => getComputedStyle(el)[p].match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number)", prop
    )
    return float(sum(rgb)) / (3 * 255)


def test_the_empty_page_has_no_serious_accessibility_violations(demo: DemoPage) -> None:
    assert demo.page.locator("#empty").is_visible()
    assert demo.serious_violations() == []
    demo.shoot("demo-empty")


def test_live_regions_are_only_status_and_errors(demo: DemoPage) -> None:
    live = demo.page.eval_on_selector_all(
        "[aria-live], [role=status], [role=alert], [role=log]", "nodes => nodes.map(n => n.id)"
    )
    assert live == ["status", "alert"]


def test_a_streaming_reply_has_no_serious_accessibility_violations(demo: DemoPage) -> None:
    demo.send(inline_prompt(text=MARKDOWN * 3, chunks=120, delay_ms=40))
    demo.page.wait_for_function("(s) => document.querySelector(s).textContent.length >= 20", arg=LAST_ANSWER)
    assert demo.serious_violations() == []
    assert demo.text("#status") == "Answering…"
    demo.page.click("#stop")
    demo.wait_for("stopped")


def test_an_error_state_has_no_serious_accessibility_violations(demo: DemoPage, azure: AzureOpenAIEmulator) -> None:
    demo.send(inline_prompt(text=MARKDOWN, chunks=4))
    demo.wait_for("done")
    azure.book.set("*", {"status": 429, "retry_after": 2})
    demo.send("again")
    demo.wait_for("error")
    assert demo.serious_violations() == []


@pytest.mark.parametrize("styled_page", [{"color_scheme": "dark"}], indirect=True)
def test_dark_mode_follows_the_system(styled_page: Page, demo_relay_url: str, azure: AzureOpenAIEmulator) -> None:
    demo = DemoPage(styled_page, demo_relay_url)
    assert luminance(styled_page, "body", "backgroundColor") < 0.2
    assert luminance(styled_page, "body", "color") > 0.8
    demo.send(inline_prompt(text=MARKDOWN, chunks=6))
    demo.wait_for("done")
    assert luminance(styled_page, ".code-block", "backgroundColor") < 0.2
    azure.book.set("*", {"status": 429, "retry_after": 2})
    demo.send("again")
    demo.wait_for("error")
    assert demo.serious_violations() == []
    demo.shoot("demo-dark")


@pytest.mark.parametrize(
    "styled_page", [{"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}], indirect=True
)
def test_a_360_px_phone_gets_the_transcript_not_the_header(styled_page: Page, demo_relay_url: str) -> None:
    demo = DemoPage(styled_page, demo_relay_url)
    assert styled_page.evaluate("document.querySelector('#settings-panel').open") is False
    header = styled_page.locator("header").bounding_box()
    assert header is not None and header["height"] <= 740 * 0.15, f"the header takes {header}"
    demo.send(inline_prompt(text=MARKDOWN + "\n\n" + "A very long line " * 30, chunks=6))
    demo.wait_for("done")
    assert styled_page.evaluate("document.documentElement.scrollWidth") <= 360, "nothing scrolls sideways"
    send = styled_page.locator("#send").bounding_box()
    assert send is not None and send["x"] + send["width"] <= 360
    assert demo.serious_violations() == []
    demo.shoot("demo-360px")


def test_the_page_transfer_size_is_small(page: Page, demo_relay_url: str) -> None:
    sizes: dict[str, int] = {}
    page.on(
        "requestfinished",
        lambda request: sizes.update(
            {request.url: request.sizes()["responseBodySize"] + request.sizes()["responseHeadersSize"]}
        ),
    )
    DemoPage(page, demo_relay_url)
    page.wait_for_load_state("networkidle")
    total = sum(sizes.values())
    names = sorted(url.rsplit("/", 1)[-1] for url in sizes)
    assert {"ui", "demo.js", "marked.esm.js", "purify.min.js", "hljs-core.min.js", "models"} <= set(names)
    report = f"demo page first load: {len(sizes)} responses, {total} bytes ({total / 1024:.1f} KiB) uncompressed"
    print(report)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "demo-transfer-size.txt").write_text(report + "\n" + "\n".join(names) + "\n", encoding="utf-8")
    assert 0 < total <= TRANSFER_BUDGET_BYTES, report


def test_the_axe_scan_does_find_a_serious_violation_when_there_is_one(demo: DemoPage) -> None:
    demo.page.evaluate("document.querySelector('#composer .buttons').append(document.createElement('button'))")
    assert [v["id"] for v in demo.serious_violations()] == ["button-name"], "the scan is not vacuous"
