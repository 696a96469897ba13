"""Real-browser test fixtures: JupyterLab on loopback, driven by Debian's Chromium through Playwright.

Fixtures
    lab_server  (session)  a JupyterLab server on 127.0.0.1 at a free port, in a throwaway root dir
    browser     (session)  /usr/bin/chromium, headless
    page        (function) a fresh browser page; the test fails on any console error, page error or
                           request that leaves the machine
    lab         (function) `Lab` helpers bound to that page: write and open notebooks, run cells,
                           read a cell's output back from the kernel, take screenshots

Everything waits on page or kernel state, never on sleeps. The server gets no network: no news
feed, no update check, a read-only extension manager; the browser's requests are limited to the
server, and anything else is aborted and fails the test.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, expect, sync_playwright

from .labhost import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    CellError,  # noqa: F401 - re-exported for the tests
    Lab,
    LabServer,
    LabStartError,
    is_local,
    running_lab,
)

EXPECT_TIMEOUT_MS = 20_000  # expect(...) assertions: a re-run of the model on a busy 2-core machine
DEFAULT_TIMEOUT_MS = 30_000  # one DOM wait

# Console errors that are not ours and not a sign of anything wrong: (regex, why it is harmless).
# Keep this short; prefer switching the cause off (see `lab_server`) over listing it here.
IGNORED_CONSOLE_ERRORS: list[tuple[str, str]] = []


expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Fail a test whose page reported errors; keep each phase's report on the item for the fixtures."""
    report = yield
    problems: list[str] | None = getattr(item, "page_problems", None)
    if report.when == "call" and problems is not None:
        page = item.funcargs.get("page")  # type: ignore[attr-defined]
        if page is not None:
            _settle(page)
        if problems and not report.failed:
            report.outcome = "failed"
            report.longrepr = "the page reported errors:\n" + "\n".join(problems)
        item.page_problems_reported = len(problems)  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)
    return report


def _settle(page: Page) -> None:
    """Let the page finish the frame it is in, so errors it is about to log are counted."""
    try:
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    except Error:
        pass



@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    try:
        with running_lab(tmp_path_factory.mktemp("lab")) as server:
            yield server
    except LabStartError as error:
        pytest.fail(str(error))


# ---- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does)")
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _ignored(text: str) -> bool:
    return any(re.search(pattern, text) for pattern, _why in IGNORED_CONSOLE_ERRORS)


@pytest.fixture
def page(browser: Browser, lab_server: LabServer, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=lab_server.url)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not _ignored(message.text):
            where = message.location
            problems.append(f"console error: {message.text} (at {where.get('url')}:{where.get('lineNumber')})")

    def on_page_error(error: Error) -> None:
        problems.append(f"page error: {error.message}\n{error.stack or ''}")

    def block_outside(route: Any) -> None:
        problems.append(f"request off the machine, blocked: {route.request.method} {route.request.url}")
        route.abort("blockedbyclient")

    context.route(lambda url: not is_local(url), block_outside)
    page = context.new_page()
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    request.node.page_problems = problems
    yield page

    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"FAILED-{request.node.name}.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failed page: {shot}")
        except Error as error:
            print(f"no screenshot of the failed page: {error.message}")
        print(f"---- JupyterLab server log (tail) ----\n{lab_server.log_tail()}")
    context.close()
    lab_server.shutdown_kernels()  # after the screenshot, so a failed page is pictured as it was
    late = problems[getattr(request.node, "page_problems_reported", 0):]
    if late:
        pytest.fail("the page reported errors after the test:\n" + "\n".join(late), pytrace=False)



@pytest.fixture
def lab(page: Page, lab_server: LabServer) -> Lab:
    return Lab(page, lab_server)
