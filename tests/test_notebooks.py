"""Every notebook in notebooks/ runs top to bottom on a real kernel, with no network.

The notebooks name Hugging Face Hub models (``"bert-base-uncased"``, ``"t5-small"``, ...).
Before a notebook runs, each such id in its code is replaced, in memory, by a local
stand-in: a tiny random model of the same family from conftest.py, or the bundled
all-MiniLM-L6-v2 for BERT-like ids. The files are never changed. A hub id that
``HUB_MODELS`` does not map fails the test before anything runs, so a new notebook
cannot reach for the hub; the kernel also runs with ``HF_HUB_OFFLINE=1``.

Each cell must run without error, and each cell that ends by showing a widget
(``AttentionWidget(...)``, ``head_view(...)``, a name bound to one, ...) must have
produced a view of an anywidget model.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from attnwidget.sources.models import resolve_model_path

NOTEBOOK_DIR = Path(__file__).parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXAMPLES = (
    "quickstart",
    "encoder_models",
    "decoder_models",
    "encoder_decoder_models",
    "sentence_pairs",
    "from_bertviz",
    "analysis",
)
CELL_TIMEOUT_S = 120

OFFLINE = "offline"
# Every hub id a notebook may name -> its stand-in: a conftest family, or OFFLINE (the
# bundled all-MiniLM-L6-v2: a real BERT with bert-base-uncased's vocabulary, 6 layers × 12 heads).
HUB_MODELS = {
    "bert-base-uncased": OFFLINE,
    "microsoft/xtremedistil-l12-h384-uncased": "bert",
    "roberta-base": "roberta",
    "distilbert-base-uncased": "distilbert",
    "albert-base-v2": "albert",
    "google/electra-small-discriminator": "electra",
    "gpt2": "gpt2",
    "HuggingFaceTB/SmolLM2-135M": "llama",
    "t5-small": "t5",
    "facebook/bart-base": "bart",
    "Helsinki-NLP/opus-mt-en-de": "marian",
}
# Names that never reach the hub: attnwidget resolves them to the bundled model.
LOCAL_NAMES = {"offline", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}

# Where a string names a model: the first argument of these calls ...
MODEL_FIRST_ARGUMENT = {"from_pretrained", "extract", "load_model", "pipeline"}
# ... the second of these (the first is the sentence) ...
MODEL_SECOND_ARGUMENT = {"AttentionWidget"}
# ... and these keywords, anywhere.
MODEL_KEYWORDS = {"model", "models", "model_name", "pretrained_model_name_or_path", "compare_to"}
# Anything shaped like "owner/name" is taken for a hub id wherever it stands.
HUB_ID_SHAPE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

# Calls that return a widget: a cell ending in one (or in a name bound to one) shows it.
WIDGET_FACTORIES = {"AttentionWidget", "from_attentions", "head_view", "model_view"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


# ---- reading the code cells -----------------------------------------------------------------


def code_trees(notebook: nbformat.NotebookNode) -> Iterator[tuple[int, ast.Module]]:
    """(cell index, syntax tree) of each code cell, with IPython magics turned into Python."""
    transform = TransformerManager().transform_cell
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            yield index, ast.parse(transform(cell.source))


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _bindings(trees: list[ast.Module]) -> dict[str, list[ast.AST]]:
    """Each variable -> the expressions assigned to it (a for loop binds its target to the iterable)."""
    bound: dict[str, list[ast.AST]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                pairs = [(target, node.value) for target in targets]
            elif isinstance(node, (ast.For, ast.comprehension)):
                pairs = [(node.target, node.iter)]
            else:
                continue
            for target, value in pairs:
                if isinstance(target, ast.Name):
                    bound.setdefault(target.id, []).append(value)
    return bound


def _strings(node: ast.AST, bound: dict[str, list[ast.AST]], seen: set[str]) -> Iterator[str]:
    """The string constants in an expression, following variables to what was assigned to them."""
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            yield child.value
        elif isinstance(child, ast.Name) and child.id not in seen:
            seen.add(child.id)
            for value in bound.get(child.id, []):
                yield from _strings(value, bound, seen)


def model_names(notebook: nbformat.NotebookNode) -> set[str]:
    """Every string the notebook's code uses as a model name, or that looks like a hub id."""
    trees = [tree for _, tree in code_trees(notebook)]
    bound = _bindings(trees)
    places: list[ast.AST] = []
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and HUB_ID_SHAPE.match(node.value):
                names.add(node.value)
            if not isinstance(node, ast.Call):
                continue
            called = _called_name(node)
            if called in MODEL_FIRST_ARGUMENT:
                places += node.args[:1]
            elif called in MODEL_SECOND_ARGUMENT:
                places += node.args[1:2]
            places += [keyword.value for keyword in node.keywords if keyword.arg in MODEL_KEYWORDS]
    for place in places:
        names.update(_strings(place, bound, set()))
    return names


def widget_cells(notebook: nbformat.NotebookNode) -> list[int]:
    """Cells whose last statement shows a widget: a factory call, a name bound to one, or display(...) of either."""
    trees = list(code_trees(notebook))
    widgets = {
        target.id
        for _, tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _called_name(node.value) in WIDGET_FACTORIES
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def is_widget(expression: ast.AST) -> bool:
        if isinstance(expression, ast.Name):
            return expression.id in widgets
        return isinstance(expression, ast.Call) and _called_name(expression) in WIDGET_FACTORIES

    cells = []
    for index, tree in trees:
        last = tree.body[-1] if tree.body else None
        if not isinstance(last, ast.Expr):
            continue
        value = last.value
        shown = [value]
        if isinstance(value, ast.Call) and _called_name(value) == "display":
            shown = value.args
        if any(is_widget(expression) for expression in shown):
            cells.append(index)
    return cells


# ---- swapping hub ids for local models ------------------------------------------------------


def unmapped_hub_ids(notebook: nbformat.NotebookNode) -> list[str]:
    return sorted(name for name in model_names(notebook) if name not in HUB_MODELS and not _is_local(name))


def _is_local(name: str) -> bool:
    return name in LOCAL_NAMES or os.path.isabs(name)


def with_local_models(notebook: nbformat.NotebookNode, local: Callable[[str], str]) -> nbformat.NotebookNode:
    """A copy whose code cells name local directories where the file names hub ids."""
    copy = nbformat.from_dict(notebook)
    for cell in copy.cells:
        if cell.cell_type != "code":
            continue
        for hub_id in HUB_MODELS:
            quoted = re.compile(r"""(["'])""" + re.escape(hub_id) + r"\1")
            if quoted.search(cell.source):
                cell.source = quoted.sub(repr(local(hub_id)).replace("\\", r"\\"), cell.source)
    return copy


@pytest.fixture(scope="session")
def local_model(tiny_model_dir: Callable[[str], Path]) -> Callable[[str], str]:
    """``local_model(hub_id)``: the directory of its stand-in, built on first use."""

    def get(hub_id: str) -> str:
        stand_in = HUB_MODELS[hub_id]
        return resolve_model_path(OFFLINE) if stand_in == OFFLINE else str(tiny_model_dir(stand_in))

    return get


# ---- the tests ------------------------------------------------------------------------------


def test_every_example_notebook_is_there() -> None:
    missing = [name for name in EXAMPLES if not (NOTEBOOK_DIR / f"{name}.ipynb").exists()]
    assert not missing, f"notebooks missing from {NOTEBOOK_DIR}: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_is_saved_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    with_outputs = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not with_outputs, f"{path.name}: cells {with_outputs} were saved with outputs; clear them before saving"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_offline_and_shows_its_widgets(path: Path, local_model: Callable[[str], str], tmp_path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    unmapped = unmapped_hub_ids(notebook)
    assert not unmapped, (
        f"{path.name} names models this test cannot run offline: {unmapped}. Map each to a local stand-in "
        "in HUB_MODELS (tests/test_notebooks.py), or use model='offline'"
    )
    expected_widgets = widget_cells(notebook)
    assert expected_widgets, f"{path.name} has no cell that shows a widget"

    local = with_local_models(notebook, local_model)
    survivors = [name for name in model_names(local) if not _is_local(name)]
    assert not survivors, f"{path.name}: hub ids left after swapping in local models: {survivors}"
    client = NotebookClient(local, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    try:
        client.execute(env=env)
    except CellExecutionError as error:
        pytest.fail(f"{path.name}: a cell raised\n{error}", pytrace=False)

    state = local.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    missing = {
        index: local.cells[index].source.splitlines()[0]
        for index in expected_widgets
        if not _anywidget_views(local.cells[index], state)
    }
    assert not missing, f"{path.name}: these cells should show a widget but produced no widget view: {missing}"


def _anywidget_views(cell: nbformat.NotebookNode, state: dict) -> list[str]:
    """Model ids of the anywidget views a cell displayed (progress bars and other widgets left out)."""
    views = [output["data"][WIDGET_VIEW]["model_id"] for output in cell.outputs if WIDGET_VIEW in output.get("data", {})]
    return [model_id for model_id in views if state.get(model_id, {}).get("model_module") == "anywidget"]
