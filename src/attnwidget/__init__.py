"""attnwidget: a live, linked Jupyter widget for looking inside a Transformer's attention."""

from .analysis import head_change, head_stats, layer_summary, rollout, word_attention
from .compat import head_view, model_view
from .extraction import extract
from .models import OFFLINE_MODEL, LoadedModel, load_model
from .neuron import neuron_view
from .result import AttentionStack, Extraction
from .standalone import save_html
from .tensors import extraction_from_tensors
from .widget import AttentionWidget

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
