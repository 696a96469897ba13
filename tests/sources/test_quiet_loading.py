"""A cell that creates a widget outputs the widget and nothing else: no progress bar, log line or warning."""

from __future__ import annotations

import json

import nbformat
from nbclient import NotebookClient

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# As a user's kernel is: transformers at its default verbosity, warnings shown once.
USER_DEFAULTS = "import os, warnings\nos.environ.pop('TRANSFORMERS_VERBOSITY', None)\nwarnings.simplefilter('default')"
CREATE = "from attnwidget import AttentionWidget\nw = AttentionWidget('He went to the bank.', model='offline')\nw"
MODEL_ID = "print(w.model_id)"


def test_creating_a_widget_outputs_only_the_widget() -> None:
    cells = [nbformat.v4.new_code_cell(source) for source in (USER_DEFAULTS, CREATE, MODEL_ID)]
    notebook = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(notebook, timeout=180, kernel_name="python3").execute()

    outputs = notebook.cells[1].outputs
    assert len(outputs) == 1, json.dumps(outputs, indent=1)[:3000]
    assert outputs[0]["data"][WIDGET_VIEW]["model_id"] == notebook.cells[2].outputs[0]["text"].strip()


def test_the_users_transformers_settings_come_back_after_loading() -> None:
    from transformers.utils import logging as hf_logging

    from attnwidget.sources.models import quiet_transformers

    hf_logging.set_verbosity_info()
    hf_logging.enable_progress_bar()
    try:
        with quiet_transformers():
            assert not hf_logging.is_progress_bar_enabled()
            assert hf_logging.get_verbosity() == hf_logging.ERROR
        assert hf_logging.is_progress_bar_enabled()
        assert hf_logging.get_verbosity() == hf_logging.INFO
    finally:
        hf_logging.set_verbosity_error()
