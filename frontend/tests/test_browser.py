"""A real browser (Debian's chromium, headless, driven by Playwright) against the uWSGI frontend.

Log in as a demo user, share a thought, see it listed, search for it, log out;
a screenshot of each step goes to test-artifacts/browser/ (git-ignored).
"""

import os
import uuid
from pathlib import Path

import pytest
from frontend_testing import ARTIFACTS

from thoughts_common.testing.postgres import in_ci

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = ARTIFACTS / "browser"


def _needs(what):
    message = f"the browser test needs {what}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: not skipping; `make test` installs it)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _needs("the playwright Python package (pip install playwright)")
    if not CHROMIUM.is_file():
        _needs(f"chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_log_in_share_search_log_out(page, frontend_server):
    from playwright.sync_api import expect

    base = frontend_server.base
    text = f"Shared from a real browser, café ☕ {uuid.uuid4().hex[:12]}"

    # 1. Asking for the thoughts leads to the login page.
    page.goto(f"{base}/thoughts/")
    expect(page).to_have_url(f"{base}/login/?next=%2Fthoughts%2F")
    expect(page.get_by_text("Please enter your login and password")).to_be_visible()
    # Bootstrap is ours, served as a static file: the navbar is styled.
    assert page.eval_on_selector("nav.navbar", "e => getComputedStyle(e).display") == "flex"
    shot(page, "01-login-page")

    # 2. Log in as bruce.
    page.fill("#inputUsername", "bruce")
    page.fill("#inputPassword", "bruce")
    page.click("#login-button")
    expect(page).to_have_url(f"{base}/thoughts/")
    expect(page.locator("#nav-username")).to_have_text("bruce")
    expect(page.get_by_text("we'll know wether we have succeeded")).to_be_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["session"]["httpOnly"] is True
    assert cookies["session"]["sameSite"] == "Lax"
    assert "session=" not in page.evaluate("document.cookie")  # out of reach of scripts
    shot(page, "02-logged-in")

    # 3. Share a thought and see it listed, the newest first.
    page.fill("#thought-text", text)
    page.click("#share-button")
    expect(page).to_have_url(f"{base}/thoughts/")
    expect(page.locator(".thought-text", has_text=text)).to_have_count(1)
    expect(page.locator(".thought-text").first).to_have_text(text)
    shot(page, "03-shared")

    # 4. Search for it from the navbar.
    page.fill("input[name=search]", "café ☕")
    page.press("input[name=search]", "Enter")
    expect(page).to_have_url(f"{base}/search?search=caf%C3%A9+%E2%98%95")
    expect(page.locator(".thought-text", has_text=text)).to_have_count(1)
    shot(page, "04-search")

    # 5. Log out: back to the login page, and the thoughts need a login again.
    page.click("#logout-button")
    expect(page).to_have_url(f"{base}/login/")
    assert "session" not in {c["name"] for c in page.context.cookies()}
    shot(page, "05-logged-out")
    page.goto(f"{base}/thoughts/")
    expect(page).to_have_url(f"{base}/login/?next=%2Fthoughts%2F")


def test_wrong_password_in_the_browser(page, frontend_server):
    from playwright.sync_api import expect

    page.goto(f"{frontend_server.base}/login/")
    page.fill("#inputUsername", "bruce")
    page.fill("#inputPassword", "not-bruce")
    page.click("#login-button")
    expect(page.locator("#login-warning")).to_have_text("Invalid login/password, please try again.")
    # Not logged in: the navbar names no user.
    expect(page.locator("#nav-username")).to_have_count(0)
    shot(page, "06-wrong-password")


def test_too_many_attempts_in_the_browser(page, frontend_server, api):
    from playwright.sync_api import expect

    username, password = api.new_user()
    page.goto(f"{frontend_server.base}/login/")
    for attempt in range(6):
        page.fill("#inputUsername", username)
        page.fill("#inputPassword", password if attempt == 5 else f"wrong-{attempt}")
        with page.expect_navigation() as navigation:
            page.click("#login-button")
    assert navigation.value.status == 429
    expect(page.locator("#login-warning")).to_have_text("Too many attempts, try again in 1 minute.")
    expect(page.locator("#inputUsername")).to_have_value(username)
    expect(page.locator("#nav-username")).to_have_count(0)
    shot(page, "07-too-many-attempts")


def test_older_and_newest_pages_in_the_browser(page, frontend_server, api):
    """The list shows the newest thoughts first; Older goes back in time, Newest returns to the start."""
    from playwright.sync_api import expect

    username, password = api.new_user()
    page_size = 20  # the frontend's FRONTEND_PAGE_SIZE default
    texts = [f"thought number {i:02d}" for i in range(page_size + 3)]
    api.share(api.token(username, password), *texts)
    page.goto(f"{frontend_server.base}/login/")
    page.fill("#inputUsername", username)
    page.fill("#inputPassword", password)
    page.click("#login-button")

    shown = page.locator(".thought-text")
    expect(shown).to_have_count(page_size)
    expect(shown.first).to_have_text(texts[-1])
    expect(page.locator("#newest-page")).to_have_count(0)
    page.click("#older-page")
    expect(shown).to_have_text(texts[2::-1])
    expect(page.locator("#older-page")).to_have_count(0)
    shot(page, "08-older-page")
    page.click("#newest-page")
    expect(shown.first).to_have_text(texts[-1])
