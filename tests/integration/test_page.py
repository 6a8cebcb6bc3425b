"""The upload page in real headless Chromium against ``pony dev``: drop a picture, watch the
steps, see the thumbnail load.

Chromium is Debian's ``chromium`` package, driven by Playwright with ``executable_path`` (never
``playwright install``: scripts/setup installs both). Missing, it skips; under CI it fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import make_image
from tests.services import unavailable

pytestmark = pytest.mark.integration
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 90_000


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory) -> Iterator[Any]:
    """A Chromium with a fresh profile, closed after the module."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium; scripts/setup does it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is missing (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser_context) -> Iterator[Any]:
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.close()
    assert errors == [], "the page's JavaScript failed"


def test_a_dropped_picture_is_uploaded_processed_and_its_thumbnail_shown(dev, page, tmp_path):
    picture = make_image(tmp_path / "photo.png", size=(800, 600), mode="RGB", fmt="PNG")
    page.goto(str(dev.base_url))
    page.set_input_files("#file", str(picture))

    page.wait_for_function("document.querySelector('#upload-progress').value === 1")
    thumb = page.locator('#outputs img[data-name="thumb_320"]')
    thumb.wait_for(state="attached", timeout=WAIT_MS)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle(), timeout=WAIT_MS
    )
    width, height = thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert (width, height) == (320, 240)
    assert page.locator("#job-status").text_content() == "succeeded"
    for name in ("probe", "thumb_320", "thumb_1280"):
        step = page.locator(f'.step[data-name="{name}"]')
        assert step.get_attribute("data-status") == "succeeded"
        assert step.locator("progress").evaluate("bar => bar.value") == 1
    assert page.locator("#outputs img").count() == 2
    assert page.locator("#error").is_hidden()
