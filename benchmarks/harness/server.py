"""A tiny static file server for the harness page, run in a thread on 127.0.0.1.

URL layout (each prefix maps to one directory):

    /harness/...   this directory (index.html, harness.js, timing.js, fake_model.js)
    /static/...    the widget bundle (src/attnwidget/static by default)
    /fixtures/...  dumped widget states (see fixture.py)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

HARNESS_DIR = Path(__file__).resolve().parent
DEFAULT_STATIC_DIR = HARNESS_DIR.parents[1] / "src" / "attnwidget" / "static"


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - the handler class's own table, extended once
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".css": "text/css",
        ".json": "application/json",
        ".bin": "application/octet-stream",
        ".html": "text/html",
    }

    def __init__(self, *args, routes: dict[str, Path], **kwargs) -> None:
        self.routes = routes
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        url_path = unquote(urlsplit(path).path)
        for prefix, root in self.routes.items():
            if url_path.startswith(f"/{prefix}/"):
                relative = url_path[len(prefix) + 2 :]
                target = (root / relative).resolve()
                if target == root or root in target.parents:
                    return str(target)
        return str(Path("/nonexistent") / "404")

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(fixtures_dir: Path, static_dir: Path = DEFAULT_STATIC_DIR) -> Iterator[str]:
    """Serve the harness, a bundle directory and a fixtures directory; yields the base URL.

    >>> with serve(Path("/tmp/fixtures")) as base:
    ...     page.goto(f"{base}/harness/index.html?data=/fixtures/offline-64/manifest.json")
    """
    routes = {
        "harness": HARNESS_DIR,
        "static": Path(static_dir).resolve(),
        "fixtures": Path(fixtures_dir).resolve(),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, routes=routes))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="harness-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def page_url(base: str, fixture: str, *, mount: bool = True) -> str:
    """The harness page's URL for a fixture directory name under the fixtures root."""
    url = f"{base}/harness/index.html?data=/fixtures/{fixture}/manifest.json"
    return url if mount else f"{url}&mount=0"
