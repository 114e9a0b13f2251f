"""The demo chat page, driven the way a person uses it.

Shared by the tests/web demo modules: the page object, and small helpers for
screenshots, axe-core scans, storage and waiting on the emulator.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

from devtools.local_host import APP_ROOT

ARTIFACTS = APP_ROOT / "test-artifacts"
WEB_ROOT = APP_ROOT / "web"
LAST_REPLY = "#transcript article.assistant:last-of-type"
LAST_ANSWER = f"{LAST_REPLY} .text"
AXE = WEB_ROOT / "node_modules" / "axe-core" / "axe.min.js"


class DemoPage:
    """The demo chat page at ``{relay_url}/api/ui``."""

    def __init__(self, page: Page, relay_url: str, *, model: str | None = "azure") -> None:
        self.page = page
        self.url = f"{relay_url}/api/ui"
        self.open(model)

    def open(self, model: str | None = "azure") -> None:
        self.page.goto(self.url)
        if model is not None:
            self.page.wait_for_function("(m) => document.querySelector('#model').value === m", arg=model)

    def send(self, prompt: str, *, dialect: str = "events", press_enter: bool = False) -> None:
        if self.page.input_value("#dialect") != dialect:
            was_open = self.page.evaluate("document.querySelector('#settings-panel').open")
            self.open_settings()
            self.page.select_option("#dialect", dialect)
            self.page.evaluate("(open) => { document.querySelector('#settings-panel').open = open; }", was_open)
        self.page.fill("#prompt", prompt)
        if press_enter:
            self.page.press("#prompt", "Enter")
        else:
            self.page.click("#send")

    def open_settings(self) -> None:
        self.page.evaluate("document.querySelector('#settings-panel').open = true")

    def wait_for(self, state: str) -> None:
        self.page.wait_for_selector(f"#status[data-state='{state}']")

    def answer(self) -> str:
        return self.text(LAST_ANSWER)

    def text(self, selector: str) -> str:
        return self.page.text_content(selector) or ""

    def meta(self, field: str, reply: str = LAST_REPLY) -> str:
        return self.text(f"{reply} .meta dd[data-field='{field}']")

    def shoot(self, name: str) -> None:
        """A screenshot under test-artifacts/, the evidence a reviewer looks at."""
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), animations="disabled", full_page=True)

    def serious_violations(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the page as it is now."""
        if not AXE.is_file():
            pytest.fail(f"{AXE} is missing: run 'make webdeps' (npm ci in web/)", pytrace=False)
        if not self.page.evaluate("typeof window.axe === 'object'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8"))
        found: list[dict[str, Any]] = self.page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"""
        )
        return found


def storage_dump(page: Page) -> str:
    """Everything the page keeps across loads (both storages and cookies), as one string."""
    dump: str = page.evaluate(
        "JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie])"
    )
    return dump


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
