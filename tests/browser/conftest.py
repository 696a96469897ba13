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

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import nbformat
import psutil
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Locator, Page, Playwright, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
EXPECT_TIMEOUT_MS = 20_000  # expect(...) assertions: a re-run of the model on a busy 2-core machine
SERVER_START_TIMEOUT_S = 90
DEFAULT_TIMEOUT_MS = 30_000  # one DOM wait
KERNEL_TIMEOUT_MS = 180_000  # opening a notebook and running its cells (loads a model on 2 cores)

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

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


# ---- the server ----------------------------------------------------------------------------


@dataclass
class LabServer:
    url: str
    root_dir: Path
    log_path: Path
    process: subprocess.Popen

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method=method)
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """End every notebook session and kernel, so each test starts with none running."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_lab_settings(settings_dir: Path) -> None:
    """User settings that keep JupyterLab quiet and off the network."""
    settings = {
        # No news feed, no update check, and no toast asking about them.
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for name, value in settings.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (it shuts its kernels down), then kill what is left."""
    try:
        family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)
    # Kernels run in sessions of their own, so the group kill may miss one the server did not stop.
    _, alive = psutil.wait_procs(family, timeout=5)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    base = tmp_path_factory.mktemp("lab")
    root_dir = base / "root"
    settings_dir = base / "settings"
    for path in (root_dir, settings_dir, base / "workspaces", base / "config" / "labconfig", base / "runtime", base / "ipython"):
        path.mkdir(parents=True)
    _write_lab_settings(settings_dir)
    # No "is a rebuild needed?" check on every page load (it runs node; prebuilt extensions need none).
    (base / "config" / "labconfig" / "page_config.json").write_text(json.dumps({"buildCheck": False, "buildAvailable": False}))
    port = _free_port()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        # A clean config and runtime: nothing from the user's ~/.jupyter or ~/.ipython applies.
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--allow-root",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.disable_check_xsrf=True",
        "--ServerApp.terminals_enabled=False",
        # No network from the server: no news feed, no update check, no PyPI extension manager.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        # window.jupyterapp, so the tests can run JupyterLab commands and read notebook models.
        "--LabApp.expose_app_in_browser=True",
        # The same in Notebook 7, served by this server too (as is Voilà, at /voila/render/).
        "--JupyterNotebookApp.expose_app_in_browser=True",
    ]
    log_path = base / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        command, cwd=root_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    server = LabServer(url=f"http://127.0.0.1:{port}", root_dir=root_dir, log_path=log_path, process=process)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode} while starting:\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(f"{server.url}/api/status", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer /api/status within {SERVER_START_TIMEOUT_S}s:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        _stop(process)
        log.close()


MARIMO_APP = '''
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
'''


@pytest.fixture(scope="session")
def marimo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`marimo run` of an app showing the widget through mo.ui.anywidget and a cell reading it; yields its URL."""
    base = tmp_path_factory.mktemp("marimo")
    (base / "app.py").write_text(MARIMO_APP, encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MARIMO_SKIP_UPDATE_CHECK": "1", "HOME": str(base)}
    command = [
        sys.executable, "-m", "marimo", "run", "app.py", "--headless", "--host", "127.0.0.1", f"--port={port}",
        "--no-token", "--no-sandbox", "--no-check",
    ]
    log_path = base / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while True:
                if process.poll() is not None:
                    pytest.fail(f"marimo exited with {process.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
                try:
                    with urllib.request.urlopen(url, timeout=2) as answer:
                        if answer.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"marimo did not answer within {SERVER_START_TIMEOUT_S}s")
                time.sleep(0.2)
            yield url
        finally:
            _stop(process)


@pytest.fixture
def host_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page for a host other than JupyterLab (its server is the test's): only loopback is reachable."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = _watch(context, request, _is_local)
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


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss"):
        return True  # data:, blob:, about: never leave the machine
    return parts.hostname in LOCAL_HOSTS or f"[{parts.hostname}]" in LOCAL_HOSTS


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
    late = problems[getattr(request.node, "page_problems_reported", 0):]
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
    page = _watch(context, request, _is_local)
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


# ---- notebooks -----------------------------------------------------------------------------

# Finds the NotebookPanel of `path` among JupyterLab's main-area widgets.
_FIND_PANEL = """
const findPanel = (path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  for (const widget of app.shell.widgets('main')) {
    if (widget.context && widget.context.path === path && widget.content && widget.content.widgets) return widget;
  }
  return null;
};
"""

_OUTPUT_JSON = """
const outputsOf = (cell) => cell.model.outputs ? cell.model.outputs.toJSON() : [];
"""

# page.evaluate has no time limit of its own: a cell that never ends must not hang the run.
_WITH_TIMEOUT = f"""
const withTimeout = (promise, what) => Promise.race([promise, new Promise((_, fail) =>
  setTimeout(() => fail(new Error(what + ' did not finish within {KERNEL_TIMEOUT_MS} ms')), {KERNEL_TIMEOUT_MS}))]);
"""


class CellError(AssertionError):
    """A cell raised in the kernel."""


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _output_text(outputs: list[dict]) -> str:
    """The text a person would read: streams and text/plain results, in order. Raises on an error output."""
    parts: list[str] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "error":
            traceback = _strip_ansi("\n".join(output.get("traceback", [])))
            raise CellError(f"{output.get('ename')}: {output.get('evalue')}\n{traceback}")
        if kind == "stream":
            text = output.get("text", "")
            parts.append("".join(text) if isinstance(text, list) else text)
        elif kind in ("execute_result", "display_data"):
            text = output.get("data", {}).get("text/plain", "")
            parts.append(("".join(text) if isinstance(text, list) else text) + "\n")
    return "".join(parts)


class Lab:
    """Helpers for one page of JupyterLab."""

    _count = 0

    def __init__(self, page: Page, server: LabServer) -> None:
        self.page = page
        self.server = server
        self.path: str | None = None  # the notebook opened last
        Lab._count += 1
        self.workspace = f"test{Lab._count}"

    def write_notebook(self, name: str, cells: list[str]) -> str:
        """A notebook of code cells in the server's root; returns its path for `open_notebook`."""
        path = name if name.endswith(".ipynb") else f"{name}.ipynb"
        notebook = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(source) for source in cells],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}},
        )
        nbformat.write(notebook, self.server.root_dir / path)
        return path

    def copy_notebook(self, source: Path) -> str:
        """Copy a notebook file into the server's root; returns its path for `open_notebook`."""
        target = self.server.root_dir / source.name
        target.write_bytes(source.read_bytes())
        return source.name

    def open_notebook(self, path: str) -> None:
        """Open `path` and wait until its kernel is started and idle."""
        self.path = path
        # A workspace of its own, so tabs opened by earlier tests are not restored.
        self.page.goto(f"/lab/workspaces/{self.workspace}/tree/{path}")
        self.page.wait_for_function(
            f"""(path) => {{ {_FIND_PANEL}
              const panel = findPanel(path);
              const kernel = panel && panel.context.isReady && panel.sessionContext.session
                && panel.sessionContext.session.kernel;
              return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
            }}""",
            arg=path,
            timeout=KERNEL_TIMEOUT_MS,
        )

    def run_all(self) -> list[str]:
        """Run every cell (JupyterLab's "Run All Cells") and wait for the last to finish.

        Returns each code cell's text output; raises `CellError` if any cell raised.
        """
        outputs = self.page.evaluate(
            f"""async (path) => {{ {_FIND_PANEL} {_OUTPUT_JSON} {_WITH_TIMEOUT}
              const app = window.jupyterapp;
              const panel = findPanel(path);
              app.shell.activateById(panel.id);
              const ok = await withTimeout(app.commands.execute('notebook:run-all-cells'), 'Run All Cells');
              return {{ ok, outputs: panel.content.widgets.filter((c) => c.model.type === 'code').map(outputsOf) }};
            }}""",
            self._path(),
        )
        texts = [_output_text(cell) for cell in outputs["outputs"]]
        if not outputs["ok"]:
            raise CellError("JupyterLab reports that running the cells failed")
        return texts

    def run_code(self, code: str) -> str:
        """Append a code cell with `code`, run it, and return its text output (raises `CellError` on an error)."""
        outputs = self.page.evaluate(
            f"""async ({{ path, code }}) => {{ {_FIND_PANEL} {_OUTPUT_JSON} {_WITH_TIMEOUT}
              const app = window.jupyterapp;
              const panel = findPanel(path);
              app.shell.activateById(panel.id);
              const notebook = panel.content;
              notebook.activeCellIndex = notebook.widgets.length - 1;
              await app.commands.execute('notebook:insert-cell-below');
              const cell = notebook.activeCell;
              if (cell.model.type !== 'code') await app.commands.execute('notebook:change-cell-to-code');
              notebook.activeCell.model.sharedModel.setSource(code);
              await withTimeout(app.commands.execute('notebook:run-cell'), 'the cell ' + JSON.stringify(code));
              return outputsOf(notebook.activeCell);
            }}""",
            {"path": self._path(), "code": code},
        )
        return _output_text(outputs)

    def run_notebook(self, name: str, cells: list[str]) -> list[str]:
        """Write, open and run a notebook; returns each cell's text output."""
        path = self.write_notebook(name, cells)
        self.open_notebook(path)
        return self.run_all()

    def screenshot(self, target: Locator | None, name: str) -> Path:
        """Save a PNG of `target` (or the whole page) to tests/browser/screenshots/NAME.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        if target is None:
            self.page.screenshot(path=str(path), full_page=True)
        else:
            target.scroll_into_view_if_needed()
            target.screenshot(path=str(path))
        return path

    def _path(self) -> str:
        if self.path is None:
            raise RuntimeError("open a notebook first")
        return self.path


@pytest.fixture
def lab(page: Page, lab_server: LabServer) -> Lab:
    return Lab(page, lab_server)
