"""The front end travels once per kernel: each widget carries a small loader and a reference."""

from __future__ import annotations

import gzip
import sys

from attnwidget import AttentionWidget
from attnwidget.sources.models import LoadedModel
from attnwidget.widget.frontend import FrontEnd, shared_front_end
from attnwidget.wire.static import STATIC

SENTENCE = "The bank by the river."


def test_every_widget_carries_the_loader_and_references_one_shared_front_end(offline: LoadedModel) -> None:
    first = AttentionWidget(SENTENCE, model=offline)
    second = AttentionWidget(SENTENCE, model=offline)
    try:
        assert first._esm == (STATIC / "loader.js").read_text()
        assert len(first._esm.encode()) < 3000  # not the ~85 kB bundle
        assert first._css == ""
        assert first._front_end is second._front_end is shared_front_end()
        state = first.get_state(["_front_end"])
        assert state["_front_end"] == f"IPY_MODEL_{first._front_end.model_id}"
    finally:
        first.close()
        second.close()


def test_the_shared_front_end_is_the_built_bundle_compressed() -> None:
    front_end = shared_front_end()
    assert gzip.decompress(front_end.esm) == (STATIC / "widget.js").read_bytes()
    assert gzip.decompress(front_end.css) == (STATIC / "widget.css").read_bytes()
    assert len(front_end.esm) < (STATIC / "widget.js").stat().st_size / 2
    assert len(front_end.digest) == 16


def test_a_closed_front_end_is_replaced_by_a_new_one_with_the_same_content(offline: LoadedModel) -> None:
    old = shared_front_end()
    old.close()
    widget = AttentionWidget(SENTENCE, model=offline)
    try:
        assert isinstance(widget._front_end, FrontEnd)
        assert widget._front_end is not old and widget._front_end.comm is not None
        assert widget._front_end.digest == old.digest and widget._front_end.esm == old.esm
    finally:
        widget.close()


def test_a_saved_notebook_holds_the_front_end_once_for_its_widgets(tmp_path) -> None:
    """Widget state saved with a notebook renders without a kernel: it must carry the shared front end."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("from attnwidget import AttentionWidget"),
            nbformat.v4.new_code_cell(f"a = AttentionWidget({SENTENCE!r}, model='offline')\na"),
            nbformat.v4.new_code_cell(f"b = AttentionWidget({SENTENCE!r}, model='offline')\nb"),
        ]
    )
    NotebookClient(notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    front_ends = {model_id: model for model_id, model in state.items() if "digest" in model["state"]}
    widgets = [model for model in state.values() if model["state"].get("_model_name") == "AnyModel"]
    assert len(front_ends) == 1 and len(widgets) == 2
    ((front_end_id, front_end),) = front_ends.items()
    assert all(widget["state"]["_front_end"] == f"IPY_MODEL_{front_end_id}" for widget in widgets)
    # The compressed bundle is saved once (base64 buffers), not in each widget's state.
    assert {buffer["path"][0] for buffer in front_end["buffers"]} == {"esm", "css"}
    assert all(len(widget["state"]["_esm"]) < 3000 for widget in widgets)


def test_in_marimo_each_widget_carries_the_whole_bundle_and_no_shared_model(offline: LoadedModel, monkeypatch) -> None:
    """A marimo comm lives and dies with its cell and session: no model is shared across widgets there."""
    import types

    marimo = types.ModuleType("marimo")
    marimo.running_in_notebook = lambda: True  # what marimo's kernel answers; the browser test runs the real one
    monkeypatch.setitem(sys.modules, "marimo", marimo)
    widget = AttentionWidget(SENTENCE, model=offline)
    try:
        assert widget._front_end is None
        assert widget._esm == (STATIC / "widget.js").read_text()
        assert widget._css == (STATIC / "widget.css").read_text()
    finally:
        widget.close()
