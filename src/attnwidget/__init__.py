"""attnwidget: a live, linked Jupyter widget for looking inside a Transformer's attention."""

from .extraction import extract
from .models import OFFLINE_MODEL, LoadedModel, load_model
from .result import AttentionStack, Extraction
from .widget import AttentionWidget

__all__ = [
    "OFFLINE_MODEL",
    "AttentionStack",
    "AttentionWidget",
    "Extraction",
    "LoadedModel",
    "extract",
    "load_model",
]
__version__ = "0.1.0"
