"""The package's shape: its public face, the old import paths, and small modules."""

from __future__ import annotations

import importlib
from pathlib import Path

import attnwidget
from attnwidget._moved import MOVED

PACKAGE = Path(attnwidget.__file__).parent
LONGEST_MODULE = 450


def test_the_public_face_is_unchanged() -> None:
    assert sorted(attnwidget.__all__) == sorted(
        ["OFFLINE_MODEL", "AttentionStack", "AttentionWidget", "Extraction", "LoadedModel", "extract",
         "extraction_from_tensors", "head_change", "head_stats", "head_view", "layer_summary", "load_model",
         "model_view", "neuron_view", "rollout", "save_html", "word_attention"]
    )  # fmt: skip
    assert all(hasattr(attnwidget, name) for name in attnwidget.__all__)


def test_every_old_module_path_is_the_module_where_it_lives_now() -> None:
    for old, new in MOVED.items():
        moved = importlib.import_module(f"attnwidget.{old}")
        assert moved is importlib.import_module(f"attnwidget.{new}"), old
        assert moved.__spec__ is not None and moved.__spec__.name == f"attnwidget.{new}"


def test_documented_old_paths_keep_working() -> None:
    from attnwidget import plot
    from attnwidget.analysis import rollout, rollout_by_head  # noqa: F401
    from attnwidget.payload import payload_bytes  # noqa: F401

    assert plot.heatmap is attnwidget.export.plot.heatmap
    assert attnwidget.analysis.rollout is rollout


def test_no_module_is_longer_than_a_newcomer_reads_at_once() -> None:
    lengths = {path.relative_to(PACKAGE).as_posix(): len(path.read_text().splitlines()) for path in PACKAGE.rglob("*.py")}
    assert {name: lines for name, lines in lengths.items() if lines > LONGEST_MODULE} == {}
