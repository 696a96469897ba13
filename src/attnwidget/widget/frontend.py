"""How the front end reaches the page: one shared, compressed copy per kernel, a tiny loader per widget.

anywidget sends a widget's ``_esm`` and ``_css`` in that widget's state, so a notebook of
ten widgets carried the ~100 kB bundle ten times (102 of the 133 kB a 16-token widget
cost). Instead each widget's ``_esm`` is ``static/loader.js`` (about 1 kB) and its state
references one ``FrontEnd`` model holding ``widget.js`` and ``widget.css`` gzip-compressed
(about 35 kB together). The loader asks the page's widget manager for that model,
decompresses it with ``DecompressionStream`` and imports it once per page.

Why this design:

* it only uses what every ipywidgets host has (JupyterLab, Notebook 7, VS Code, Colab):
  a plain ``@jupyter-widgets/base`` ``WidgetModel`` and a widget reference, the
  mechanism ``HBox.children`` relies on; no URL to serve, no server extension;
* saved notebooks keep working without a kernel: the saved widget state holds the
  shared model like any other, and the loader reads it the same way;
* a re-created kernel (or ``Widget.close_all()``) gets a new shared model on the next
  widget; the page keys the imported module by its digest, so it is imported once.

Where one shared model cannot serve every widget, a widget carries the whole bundle
instead (``front_end_traits``): in marimo, a widget's comm belongs to the cell and the
session that made it (closed when that cell re-runs; ``marimo run`` serves several
sessions from one process), so a model shared across cells and sessions would vanish
under the widgets that reference it. The standalone file (``save_html``) never uses the
loader: it inlines ``standalone.js``.

Under ``ANYWIDGET_HMR=1`` (front-end development) widgets carry the files themselves, as
paths, so anywidget can hot-reload them.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

import ipywidgets
import traitlets as t

from ..wire.static import static_file


def hot_reloading() -> bool:
    return os.environ.get("ANYWIDGET_HMR") == "1"


class FrontEnd(ipywidgets.Widget):
    """The compressed front end, synced once per kernel and shared by every AttentionWidget.

    A bare ``WidgetModel`` in the page (ipywidgets' own base model): it has no view and
    only carries these traits to the loader.
    """

    esm = t.Bytes(b"").tag(sync=True)  # gzip of static/widget.js
    css = t.Bytes(b"").tag(sync=True)  # gzip of static/widget.css
    digest = t.Unicode("").tag(sync=True)  # sha256 of both, so the page imports each version once


@cache
def _compressed() -> tuple[bytes, bytes, str]:
    script = static_file("widget.js").read_bytes()
    style = static_file("widget.css").read_bytes()
    digest = hashlib.sha256(script + b"\0" + style).hexdigest()[:16]
    # mtime=0: the same bytes for the same files, so saved notebooks do not change needlessly.
    return gzip.compress(script, 9, mtime=0), gzip.compress(style, 9, mtime=0), digest


_shared: FrontEnd | None = None


def shared_front_end() -> FrontEnd:
    """This kernel's one ``FrontEnd`` model, created on first use and again if it was closed."""
    global _shared
    if _shared is None or _shared.comm is None:
        esm, css, digest = _compressed()
        _shared = FrontEnd(esm=esm, css=css, digest=digest)
    return _shared


def in_marimo() -> bool:
    """True inside a marimo notebook or app (``marimo edit`` or ``marimo run``)."""
    marimo = sys.modules.get("marimo")  # not imported here: only a marimo kernel has it loaded
    return marimo is not None and bool(marimo.running_in_notebook())


def front_end_traits() -> dict[str, Any]:
    """The traits a new widget gets its front end by: a reference to the shared model, or the bundle itself.

    The bundle itself while hot reloading (the class's paths, nothing to add) and in marimo
    (see the module docstring); the reference everywhere else.
    """
    if hot_reloading():
        return {}
    if in_marimo():
        return {
            "_esm": static_file("widget.js").read_text(encoding="utf-8"),
            "_css": static_file("widget.css").read_text(encoding="utf-8"),
        }
    return {"_front_end": shared_front_end()}


def widget_esm() -> str | Path:
    """A widget's ``_esm``: the loader, or the whole bundle as a path while hot reloading.

    anywidget watches a Path for hot reloading and keeps a reference to every widget
    given one, so closed widgets (and their attention arrays) would never be freed:
    only under ANYWIDGET_HMR=1, while developing, is a Path used.
    """
    if hot_reloading():
        return static_file("widget.js")
    return static_file("loader.js").read_text(encoding="utf-8")


def widget_css() -> str | Path:
    """A widget's ``_css``: none (the shared front end injects it), or the file while hot reloading."""
    return static_file("widget.css") if hot_reloading() else ""
