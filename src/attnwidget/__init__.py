"""attnwidget: a live, linked Jupyter widget for looking inside a Transformer's attention.

The package is layered, each folder importing only those below it (checked by
import-linter, see pyproject.toml): ``core`` → ``long`` → ``sources`` and ``analysis``
→ ``wire`` → ``export`` → ``widget`` → ``bertviz`` and ``cli``. ARCHITECTURE.md maps
every file.
"""

from . import _moved
from .analysis import head_change, head_stats, layer_summary, rollout, word_attention
from .bertviz import head_view, model_view, neuron_view
from .core.stack import AttentionStack, Extraction
from .export.html import save_html
from .sources.forward import extract
from .sources.models import OFFLINE_MODEL, LoadedModel, load_model
from .sources.tensors import extraction_from_tensors
from .widget import AttentionWidget

_moved.install()

__all__ = [
    "OFFLINE_MODEL",
    "AttentionStack",
    "AttentionWidget",
    "Extraction",
    "LoadedModel",
    "extract",
    "extraction_from_tensors",
    "head_change",
    "head_stats",
    "head_view",
    "layer_summary",
    "load_model",
    "model_view",
    "neuron_view",
    "rollout",
    "save_html",
    "word_attention",
]
__version__ = "0.1.0"
