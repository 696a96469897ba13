"""The front end travels once per kernel: each widget carries a small loader and a reference."""

from __future__ import annotations

import gzip

from attnwidget import AttentionWidget
from attnwidget.frontend import STATIC, FrontEnd, shared_front_end
from attnwidget.models import LoadedModel

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
