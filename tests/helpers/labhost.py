"""JupyterLab on loopback and Chromium flags, shared by the browser tests and the benchmark.

Plain functions and classes, no pytest: `tests/browser/conftest.py` wraps them in fixtures and
`benchmarks/lab.py` drives the same server and the same notebook helpers to time the widget
where users meet it.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nbformat
import psutil
from playwright.sync_api import Locator, Page

CHROMIUM = "/usr/bin/chromium"
# One set of flags for every Chromium the project starts (tests and benchmark): headless on a
# machine without a GPU or network, nothing running in the background that could add noise.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parents[1] / "browser" / "screenshots"  # ignored by tests/browser/.gitignore
SERVER_START_TIMEOUT_S = 90
KERNEL_TIMEOUT_MS = 180_000  # opening a notebook and running its cells (loads a model on 2 cores)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


class LabStartError(RuntimeError):
    """The JupyterLab server exited or did not answer while starting."""


def is_local(url: str) -> bool:
    """True for URLs that stay on this machine (loopback, data:, blob:, about:)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss"):
        return True  # data:, blob:, about: never leave the machine
    return parts.hostname in LOCAL_HOSTS or f"[{parts.hostname}]" in LOCAL_HOSTS


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


def free_port() -> int:
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


def stop_server(process: subprocess.Popen) -> None:
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


def wait_until_answering(process: subprocess.Popen, url: str, what: str, log_tail: Callable[[], str]) -> None:
    """Poll `url` until it answers 200; raises `LabStartError` if `process` exits or time runs out."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise LabStartError(f"{what} exited with {process.returncode} while starting:\n{log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise LabStartError(f"{what} did not answer {url} within {SERVER_START_TIMEOUT_S}s:\n{log_tail()}")
        time.sleep(0.2)


@contextmanager
def running_lab(base: Path) -> Iterator[LabServer]:
    """A JupyterLab server on 127.0.0.1 at a free port with its root, settings and config under `base`.

    Quiet and off the network (no news feed, no update check, read-only extension manager); its
    process group and kernels are stopped on exit. Raises `LabStartError` if it does not come up.
    """
    root_dir = base / "root"
    settings_dir = base / "settings"
    for path in (root_dir, settings_dir, base / "workspaces", base / "config" / "labconfig", base / "runtime", base / "ipython"):
        path.mkdir(parents=True)
    _write_lab_settings(settings_dir)
    # No "is a rebuild needed?" check on every page load (it runs node; prebuilt extensions need none).
    (base / "config" / "labconfig" / "page_config.json").write_text(json.dumps({"buildCheck": False, "buildAvailable": False}))
    port = free_port()
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
        sys.executable,
        "-m",
        "jupyter",
        "lab",
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
        command,
        cwd=root_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = LabServer(url=f"http://127.0.0.1:{port}", root_dir=root_dir, log_path=log_path, process=process)
    try:
        wait_until_answering(process, f"{server.url}/api/status", "JupyterLab", server.log_tail)
        yield server
    finally:
        stop_server(process)
        log.close()


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
