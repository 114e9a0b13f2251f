"""Fixtures for tests that run real clients: headless Chromium and Node.

The browser is the system's Chromium driven by Playwright over CDP; its
profile is a fresh temporary user-data-dir that Playwright creates per launch.
A missing browser or Node fails these tests loudly: they are part of
``make test`` and must never be skipped silently.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Error, Page, sync_playwright

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.local_host import APP_ROOT
from tests.builders import AZURE_TEST_KEY, TEST_AUTH, serve_relay, single_azure_config
from tests.web.demo_driver import DemoPage

WEB_ROOT = APP_ROOT / "web"
ARTIFACTS = APP_ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The Chromium binary; its absence is a failure, not a skip."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it with 'apt-get install chromium' "
            "(.ci/run does) or point CHROMIUM at a binary",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    """One headless Chromium per test module."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browsing context (its own storage), desktop-sized."""
    created = browser.new_context(viewport={"width": 1000, "height": 720})
    created.set_default_timeout(15_000)
    yield created
    created.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab in :func:`context`; an uncaught error in the page fails the test."""
    tab = context.new_page()
    errors: list[Error] = []
    tab.on("pageerror", lambda error: errors.append(error))
    yield tab
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture(scope="session")
def node() -> str:
    """The ``node`` binary, with web/'s npm packages installed."""
    found = shutil.which("node")
    if found is None:
        pytest.fail("node not found: install Node.js 20 or later", pytrace=False)
    missing = [name for name in web_dev_dependencies() if not (WEB_ROOT / "node_modules" / name).is_dir()]
    if missing:
        pytest.fail(f"web/node_modules lacks {', '.join(missing)}: run 'make webdeps' (npm ci in web/)", pytrace=False)
    return found


def web_dev_dependencies() -> list[str]:
    """The npm packages web/package.json names for its tests; a stale install lacks the newest."""
    manifest = json.loads((WEB_ROOT / "package.json").read_text(encoding="utf-8"))
    return sorted(manifest["devDependencies"])


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
    """The demo page, loaded, its model list filled."""
    return DemoPage(page, demo_relay_url)
