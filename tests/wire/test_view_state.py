"""The view state is defined once, in wire/view_state.py: the widget, the saved file and the page's mirror agree with it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from attnwidget import AttentionWidget
from attnwidget.analysis import HEAD_COLUMNS, head_stats_columns
from attnwidget.wire.view_state import PAGE_SETTABLE, SAVED_VIEW, VIEW, VIEW_NAMES, VIEW_STATE

JS_STATE = Path(__file__).resolve().parents[2] / "js" / "state"


def _object_literal(source: str, name: str) -> dict[str, str]:
    """``key: value`` lines of the object literal ``name = { ... }`` in a TypeScript file, as written."""
    body = re.search(rf"{name}[^=]*=\s*\{{(.*?)\n\}}", source, re.S)
    assert body is not None, f"no object literal {name} found"
    return dict(re.findall(r"^\s+(\w+): (.+?),$", body.group(1), re.M))


def _page_traits() -> dict[str, str]:
    """The page's store key -> Python trait table (js/state/traits.ts, or sync.ts before it moved there)."""
    for file in ("traits.ts", "sync.ts"):
        path = JS_STATE / file
        if path.exists() and "TRAITS = {" in path.read_text():
            return {key: json.loads(value) for key, value in _object_literal(path.read_text(), "TRAITS").items()}
    raise AssertionError("the page's TRAITS table was not found in js/state")


def test_the_widget_has_one_view_trait_per_setting_with_its_default() -> None:
    view_traits = AttentionWidget.class_traits(view=True)
    assert set(view_traits) == set(VIEW_NAMES)
    for name, trait in view_traits.items():
        assert trait.default_value == VIEW[name].default, name
        assert trait.metadata.get("sync") is True


def test_the_page_may_set_the_view_state_and_page_runs_and_nothing_else() -> None:
    assert set(PAGE_SETTABLE) == {*VIEW_NAMES, "page_runs"}


def test_a_saved_file_holds_every_setting_but_the_neuron_view() -> None:
    assert set(SAVED_VIEW) == {setting.name for setting in VIEW_STATE if setting.name != "neuron_view"}


def test_the_pages_mirror_syncs_every_view_setting_and_only_traits_python_has() -> None:
    mirror = _page_traits()
    assert set(VIEW_NAMES) <= set(mirror.values()), set(VIEW_NAMES) - set(mirror.values())
    synced = {name for name, trait in AttentionWidget.class_traits(sync=True).items()}
    assert set(mirror.values()) <= synced, set(mirror.values()) - synced


def test_the_pages_initial_view_state_has_pythons_defaults() -> None:
    mirror = _page_traits()
    initial = _object_literal((JS_STATE / "viewState.ts").read_text(), "initialViewState")
    store_key = {python: key for key, python in mirror.items()}
    for setting in VIEW_STATE:
        assert json.loads(initial[store_key[setting.name]]) == setting.default, setting.name


def test_head_stats_columns_are_the_documented_columns_in_order() -> None:
    import numpy as np

    attention = np.full((1, 2, 3, 3), 1 / 3, dtype=np.float32)
    assert tuple(head_stats_columns(attention)) == HEAD_COLUMNS
