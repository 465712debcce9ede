"""Browser tests: Playwright for Python driving Debian's Chromium (never a downloaded
browser) against a real daphne server on a free port."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

# A spy for the Notification API, and a switch for document.hidden, installed before any
# page script runs.
INIT_SCRIPT = """
window.__notifications = [];
window.Notification = class {
  constructor(title, options = {}) { window.__notifications.push({ title, ...options }); }
  close() {}
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
};
window.__hidden = false;
Object.defineProperty(document, "hidden", { get: () => window.__hidden, configurable: true });
Object.defineProperty(document, "visibilityState", {
  get: () => (window.__hidden ? "hidden" : "visible"), configurable: true });
"""


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if REQUIRE_SERVICES:
            pytest.fail(f"Chromium not found at {CHROMIUM} (REQUIRE_SERVICES=1)")
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, live):
    contexts = []

    def make(locale: str = "en-US", **kwargs):
        context = browser.new_context(base_url=live.url(), locale=locale,
                                      extra_http_headers={"Accept-Language": locale},
                                      viewport={"width": 1100, "height": 900}, **kwargs)
        context.add_init_script(INIT_SCRIPT)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
