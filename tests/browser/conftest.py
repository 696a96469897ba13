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
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, expect, sync_playwright

from helpers.labhost import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    CellError,  # noqa: F401 - re-exported for the tests
    Lab,
    LabServer,
    LabStartError,
    free_port,
    is_local,
    running_lab,
    stop_server,
    wait_until_answering,
)

EXPECT_TIMEOUT_MS = 20_000  # expect(...) assertions: a re-run of the model on a busy 2-core machine
DEFAULT_TIMEOUT_MS = 30_000  # one DOM wait

# Console errors that are not ours and not a sign of anything wrong: (regex, why it is harmless).
# Keep this short; prefer switching the cause off (see `lab_server`) over listing it here.
IGNORED_CONSOLE_ERRORS: list[tuple[str, str]] = []

# What another host does on its own, allowed only in tests marked `@pytest.mark.host("name")`:
# host -> (errors: [(regex, why)], outside requests blocked without failing: [(regex, why)]).
HOST_NOISE: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "notebook": (
        [
            (r"reading 'schema'", "Notebook 7's own settings loader (notebook_core), before any cell runs"),
            (
                r"Command 'filebrowser:open-path' not registered",
                "Notebook 7's own file-browser restore (notebook_core) once JupyterLab has run on the same server: "
                "it fails on the notebook page whichever Lab test ran first, and passes when Notebook 7 runs alone",
            ),
        ],
        [],
    ),
    "voila": (
        [
            (r"RUNTIME-012", "Voilà's module federation of a JupyterLab extension it does not ship"),
        ],
        [(r"^https://(cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com)/", "Voilà's template: Font Awesome and MathJax")],
    ),
    "marimo": ([], []),
}


expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "host(name): the test drives another host; its own known noise is allowed (HOST_NOISE)")


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


MARIMO_APP = """
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    from attnwidget import AttentionWidget

    view = mo.ui.anywidget(AttentionWidget("He went to the bank to deposit money.", model="offline"))
    view
    return mo, view


@app.cell
def _(mo, view):
    # Re-executed by marimo whenever the page changes the widget.
    mo.md(f"probe: layer {view.layer} · sentence {view.sentence}")
    return
"""


@pytest.fixture(scope="session")
def marimo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`marimo run` of an app showing the widget through mo.ui.anywidget and a cell reading it; yields its URL."""
    base = tmp_path_factory.mktemp("marimo")
    (base / "app.py").write_text(MARIMO_APP, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MARIMO_SKIP_UPDATE_CHECK": "1", "HOME": str(base)}
    command = [
        sys.executable,
        "-m",
        "marimo",
        "run",
        "app.py",
        "--headless",
        "--host",
        "127.0.0.1",
        f"--port={port}",
        "--no-token",
        "--no-sandbox",
        "--no-check",
    ]
    log_path = base / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            try:
                wait_until_answering(process, url, "marimo", lambda: log_path.read_text(errors="replace")[-3000:])
            except LabStartError as error:
                pytest.fail(str(error))
            yield url
        finally:
            stop_server(process)


@pytest.fixture
def host_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page for a host other than JupyterLab (its server is the test's): only loopback is reachable."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = _watch(context, request, is_local)
    yield page
    context.close()
    _late_problems(request)


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


def _watch(context: Any, request: pytest.FixtureRequest, allowed: Any) -> Page:
    """A page of `context` whose console errors, page errors and requests outside `allowed` fail the test."""
    problems: list[str] = []
    marker = request.node.get_closest_marker("host")
    host_errors, host_requests = HOST_NOISE[marker.args[0]] if marker else ([], [])

    def noise(text: str, patterns: list[tuple[str, str]]) -> bool:
        return any(re.search(pattern, text) for pattern, _why in patterns)

    def on_console(message: ConsoleMessage) -> None:
        where = message.location
        from_host = noise(message.text, host_errors) or noise(where.get("url") or "", host_requests)
        if message.type == "error" and not _ignored(message.text) and not from_host:
            problems.append(f"console error: {message.text} (at {where.get('url')}:{where.get('lineNumber')})")

    def on_page_error(error: Error) -> None:
        if not noise(error.message, host_errors):
            problems.append(f"page error: {error.message}\n{error.stack or ''}")

    def block_outside(route: Any) -> None:
        if not noise(route.request.url, host_requests):
            problems.append(f"request off the machine, blocked: {route.request.method} {route.request.url}")
        route.abort("blockedbyclient")

    context.route(lambda url: not allowed(url), block_outside)
    page = context.new_page()
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    request.node.page_problems = problems
    return page


def _late_problems(request: pytest.FixtureRequest) -> None:
    problems = request.node.page_problems
    late = problems[getattr(request.node, "page_problems_reported", 0) :]
    if late:
        pytest.fail("the page reported errors after the test:\n" + "\n".join(late), pytrace=False)


@pytest.fixture
def file_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page for files on disk: any request that is not file:, data: or blob: is blocked and fails the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = _watch(context, request, lambda url: urlsplit(url).scheme in ("file", "data", "blob"))
    yield page
    context.close()
    _late_problems(request)


@pytest.fixture
def page(browser: Browser, lab_server: LabServer, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=lab_server.url)
    page = _watch(context, request, is_local)
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
    _late_problems(request)


@pytest.fixture
def lab(page: Page, lab_server: LabServer) -> Lab:
    return Lab(page, lab_server)
