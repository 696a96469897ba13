"""One forward pass: a model and an input in, tokens and attention (numpy) out.

Encoder-only models (BERT, RoBERTa, DistilBERT, ALBERT, ELECTRA) and decoder-only
models (GPT-2, Llama) give one stack, ``"self"``. Encoder-decoders (T5, BART,
Marian) give ``"encoder"``, ``"decoder"`` and ``"cross"``: the decoder reads the
target shifted right behind its start token, exactly as in training, so the
decoder tokens shown are the ``decoder_input_ids`` the decoder consumed. Without a
target, a short one is generated greedily first (and a note says so).

Sentence pairs go through the tokenizer's own pair template: ``[CLS] A [SEP] B
[SEP]`` for BERT, ``<s> A </s></s> B </s>`` for RoBERTa. Decoder-only tokenizers
have no separator, so for GPT-2 the pair is plain concatenation (``A`` directly
followed by ``B``) and for Llama ``<s> A <s> B``; ``row_b_start`` still marks where B
begins. Encoder-decoders read one source text: ``sentence_b`` raises ValueError
(pass the decoder's text as ``target``).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np
import torch

from ..core.budget import DEFAULT_MAX_ATTENTION_BYTES, AttentionSize, check_attention_budget
from ..core.stack import CROSS, DECODER, ENCODER, SELF, AttentionStack, Extraction, is_causal
from .capture import capture_queries_keys
from .long_forward import extract_long
from .models import LoadedModel, ModelSpec, load_model
from .shapes import layers_shape, output_shapes

GENERATED_TARGET_TOKENS = 20
"""How many tokens to generate for an encoder-decoder when no target is given."""


def extract(
    model: ModelSpec,
    sentence: str,
    *,
    sentence_b: str | None = None,
    target: str | None = None,
    max_attention_bytes: int = DEFAULT_MAX_ATTENTION_BYTES,
    capture_qk: bool = False,
    long_inputs: bool = False,
) -> Extraction:
    """Tokenize the input, run the model once, return every attention.

    ``sentence_b`` makes a sentence pair (not for encoder-decoders); ``target`` is
    the decoder's text for encoder-decoders (generated when None). Input longer
    than the model accepts is truncated, with a note saying so. ``capture_qk``
    also records every layer's queries and keys in the same pass (``Extraction.queries``).
    ``long_inputs`` keeps a self-attention input over the budget as queries and keys
    (a ``longinput.LongStack``) instead of refusing it.
    """
    check_sentence(sentence, "sentence")
    for text, what in ((sentence_b, "sentence_b"), (target, "target")):
        if text is not None:
            check_sentence(text, what)
    loaded = load_model(model)
    if loaded.is_encoder_decoder:
        if sentence_b is not None:
            raise ValueError(
                f"{loaded.name!r} is an encoder-decoder model: it reads one source text, so sentence_b "
                "is not accepted; pass the decoder's text as target="
            )
        return _extract_encoder_decoder(loaded, sentence, target, max_attention_bytes, capture_qk)
    if target is not None:
        raise ValueError(
            f"target= is for encoder-decoder models (T5, BART, Marian); {loaded.name!r} has no separate decoder: "
            "use sentence_b for a sentence pair"
        )
    return _extract_self_attention(loaded, sentence, sentence_b, max_attention_bytes, capture_qk, long_inputs)


def check_sentence(sentence: object, what: str) -> None:
    if not isinstance(sentence, str):
        raise ValueError(f"{what} must be a string, got {type(sentence).__name__}")
    if not sentence.strip():
        raise ValueError(f"{what} is empty: type some text to look at its attention")


# ---- encoder-only and decoder-only ---------------------------------------------------


def _extract_self_attention(
    loaded: LoadedModel,
    sentence: str,
    sentence_b: str | None,
    max_attention_bytes: int,
    capture_qk: bool,
    long_inputs: bool = False,
) -> Extraction:
    texts = (sentence,) if sentence_b is None else (sentence, sentence_b)
    encoded, special, notes = _tokenize(loaded, texts, "")
    input_ids = encoded["input_ids"]
    n = input_ids.shape[1]
    size = _attention_size(loaded, n, n)
    if long_inputs and size is not None and size.bytes > max_attention_bytes:
        b_start = _sentence_b_start(encoded) if sentence_b is not None else None
        return extract_long(loaded, encoded, special, notes, b_start, size.bytes)
    check_attention_budget([size], max_attention_bytes)

    with torch.no_grad(), _capture(loaded, capture_qk) as capture:
        output = loaded.model(**encoded, output_attentions=True, output_hidden_states=True)
    tokens = loaded.tokenizer.convert_ids_to_tokens(input_ids[0].tolist())
    b_start = _sentence_b_start(encoded) if sentence_b is not None else None
    stack = _self_stack(SELF, stack_layers(output.attentions, loaded.name), tokens, special, b_start, token_word_ids(encoded))
    shapes = {
        "input_ids": list(input_ids.shape),
        **output_shapes(output, ("last_hidden_state", "logits")),
        "hidden_states": layers_shape(output.hidden_states),
        "attentions": layers_shape(output.attentions),
    }
    queries = capture.result({SELF: output.attentions}) if capture else None
    return Extraction(stacks={SELF: stack}, model_name=loaded.name, shapes=shapes, notes=notes, queries=queries)


# ---- encoder-decoder -----------------------------------------------------------------


def _extract_encoder_decoder(
    loaded: LoadedModel, source: str, target: str | None, max_attention_bytes: int, capture_qk: bool
) -> Extraction:
    encoded, source_special, notes = _tokenize(loaded, (source,), "source")
    source_ids = encoded["input_ids"]
    n_source = source_ids.shape[1]
    encoder_size = _attention_size(loaded, n_source, n_source)
    # Checked before generating too: generation runs the encoder on the whole source.
    check_attention_budget([encoder_size], max_attention_bytes)

    if target is None:
        decoder_ids, target_notes = _generate_target(loaded, encoded)
    else:
        decoder_ids, target_notes = _teacher_forcing_input(loaded, target)
    notes += target_notes
    n_target = decoder_ids.shape[1]
    check_attention_budget(
        [
            encoder_size,
            _attention_size(loaded, n_target, n_target, decoder=True),
            _attention_size(loaded, n_target, n_source, decoder=True),
        ],
        max_attention_bytes,
    )

    with torch.no_grad(), _capture(loaded, capture_qk) as capture:
        output = loaded.model(
            input_ids=source_ids,
            attention_mask=encoded.get("attention_mask"),
            decoder_input_ids=decoder_ids,
            output_attentions=True,
        )
    tokenizer = loaded.tokenizer
    source_tokens = tokenizer.convert_ids_to_tokens(source_ids[0].tolist())
    target_tokens = tokenizer.convert_ids_to_tokens(decoder_ids[0].tolist())
    special_ids = set(tokenizer.all_special_ids)
    target_special = [token_id in special_ids for token_id in decoder_ids[0].tolist()]
    cross = AttentionStack(
        name=CROSS,
        layers=stack_layers(output.cross_attentions, loaded.name),
        row_tokens=target_tokens,
        col_tokens=source_tokens,
        row_special=target_special,
        col_special=source_special,
        col_word_ids=token_word_ids(encoded),
    )
    encoder_attention = stack_layers(output.encoder_attentions, loaded.name)
    decoder_attention = stack_layers(output.decoder_attentions, loaded.name)
    stacks = {
        ENCODER: _self_stack(ENCODER, encoder_attention, source_tokens, source_special, word_ids=token_word_ids(encoded)),
        DECODER: _self_stack(DECODER, decoder_attention, target_tokens, target_special),
        CROSS: cross,
    }
    shapes = {
        "input_ids": list(source_ids.shape),
        "decoder_input_ids": list(decoder_ids.shape),
        **output_shapes(output, ("encoder_last_hidden_state", "last_hidden_state", "logits")),
        "encoder_attentions": layers_shape(output.encoder_attentions),
        "decoder_attentions": layers_shape(output.decoder_attentions),
        "cross_attentions": layers_shape(output.cross_attentions),
    }
    queries = None
    if capture:
        outputs = (output.encoder_attentions, output.decoder_attentions, output.cross_attentions)
        queries = capture.result(dict(zip((ENCODER, DECODER, CROSS), outputs)))
    return Extraction(stacks=stacks, model_name=loaded.name, shapes=shapes, notes=notes, queries=queries)


def _teacher_forcing_input(loaded: LoadedModel, target: str) -> tuple[torch.Tensor, list[str]]:
    """The decoder's input for a given target: the start token, then the target minus its last token.

    This is the shift every seq2seq model applies to its labels in training, so
    row i of the decoder's attention is the step that predicts target token i.
    """
    labels, _, notes = _tokenize(loaded, (target,), "target", as_target=True)
    start = torch.full((1, 1), decoder_start_token_id(loaded), dtype=labels["input_ids"].dtype)
    return torch.cat([start, labels["input_ids"][:, :-1]], dim=1), notes


def _generate_target(loaded: LoadedModel, encoded: Any) -> tuple[torch.Tensor, list[str]]:
    """Greedy-decode a short target; the decoder input is everything it generated but the last token.

    The last generated token was produced, never read, so leaving it out makes
    the result identical to passing the generated text as ``target``.
    """
    model = loaded.model
    can_generate = getattr(model, "can_generate", None)
    if not callable(can_generate) or not can_generate():
        raise ValueError(
            f"{loaded.name!r} cannot generate a target (it has no language-model head): pass target= with the decoder's text"
        )
    max_new_tokens = max(1, min(GENERATED_TARGET_TOKENS, loaded.max_tokens - 1))
    with torch.no_grad():
        generated = model.generate(
            input_ids=encoded["input_ids"],
            attention_mask=encoded.get("attention_mask"),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
        )
    text = loaded.tokenizer.decode(generated[0, 1:].tolist(), skip_special_tokens=True).strip()
    return generated[:, :-1], [f"target generated by greedy decoding: {text!r}"]


def decoder_start_token_id(loaded: LoadedModel) -> int:
    """The token the decoder starts from: pad for T5 and Marian, </s> for BART."""
    model = loaded.model
    for source in (getattr(model, "generation_config", None), model.config):
        value = getattr(source, "decoder_start_token_id", None)
        if isinstance(value, int):
            return value
    pad = getattr(model.config, "pad_token_id", None)
    if isinstance(pad, int):
        return pad
    raise ValueError(f"{loaded.name!r} names no decoder_start_token_id: cannot build the decoder's input")


# ---- shared steps ----------------------------------------------------------------------


def _capture(loaded: LoadedModel, capture_qk: bool) -> Any:
    """Record queries and keys during the pass when asked (a capture), else nothing (None)."""
    return capture_queries_keys(loaded.model) if capture_qk else nullcontext()


def _tokenize(
    loaded: LoadedModel, texts: tuple[str, ...], what: str, *, as_target: bool = False
) -> tuple[Any, list[bool], list[str]]:
    """Encode (truncating to the model's limit): (encoding as tensors, special-token flags, notes)."""
    tokenizer, limit = loaded.tokenizer, loaded.max_tokens

    def encode(**kwargs: Any) -> Any:
        if as_target:
            return tokenizer(text_target=texts[0], **kwargs)
        return tokenizer(*texts, **kwargs)

    full_length = len(encode(verbose=False)["input_ids"])  # verbose=False: the note below says it better
    label = f"{what} tokens" if what else "tokens"
    if full_length == 0:
        raise ValueError(f"{what or 'the input'} gives no tokens with the tokenizer of {loaded.name!r}")
    truncate = full_length > limit
    cut = {"truncation": True, "max_length": limit} if truncate else {}
    encoded = encode(return_tensors="pt", return_special_tokens_mask=True, **cut)
    special = [bool(flag) for flag in encoded.pop("special_tokens_mask")[0].tolist()]
    notes = []
    if truncate:
        accepts = f"({loaded.name} accepts at most {limit})"
        if len(texts) == 2:  # a pair loses the end of its longer sentence, not simply its end
            notes.append(f"showing {limit} of {full_length} {label}: the longer sentence is cut short {accepts}")
        else:
            notes.append(f"showing the first {limit} of {full_length} {label} {accepts}")
    return encoded, special, notes


def _self_stack(
    name: str,
    layers: tuple[np.ndarray, ...],
    tokens: list[str],
    special: list[bool],
    b_start: int | None = None,
    word_ids: list[int | None] | None = None,
) -> AttentionStack:
    """A stack whose rows and columns are the same tokens."""
    return AttentionStack(
        name=name,
        layers=layers,
        row_tokens=tokens,
        col_tokens=tokens,
        row_special=special,
        col_special=special,
        causal=len(tokens) > 1 and is_causal(layers),
        row_b_start=b_start,
        col_b_start=b_start,
        row_word_ids=word_ids,
        col_word_ids=word_ids,
    )


def stack_layers(attentions: tuple | None, model_name: str) -> tuple[np.ndarray, ...]:
    """Per-layer (1, heads, rows, cols) tensors -> one float32 (heads, rows, cols) array per layer.

    Each array is a view of the tensor the model returned (float32 on the CPU, the
    usual case), so the widget's ready path allocates no second full-size copy; a
    float16/bfloat16 or GPU layer is converted on its own.
    """
    if not attentions or any(layer is None for layer in attentions):
        raise ValueError(
            f"{model_name!r} returned no attention weights: its attention implementation "
            "does not compute them (load it with attn_implementation='eager')"
        )
    first = attentions[0]
    if any(layer.shape[1:] != first.shape[1:] for layer in attentions):
        shapes = [tuple(layer.shape) for layer in attentions]
        raise ValueError(f"{model_name!r} returned attention of different shapes per layer (pruned heads?): {shapes}")
    return tuple(layer[0].detach().to(torch.float32).cpu().numpy() for layer in attentions)


# ---- the memory budget -------------------------------------------------------------------


def _attention_size(loaded: LoadedModel, rows: int, cols: int, *, decoder: bool = False) -> AttentionSize | None:
    """The size of one attention block from the config, or None when the config does not say."""
    config = loaded.model.config
    # BART/Marian and T5 name their decoder's depth and width separately.
    layer_keys = ("decoder_layers", "num_decoder_layers") if decoder else ()
    head_keys = ("decoder_attention_heads",) if decoder else ()
    layers = _first_int(config, (*layer_keys, "num_hidden_layers", "num_layers"))
    heads = _first_int(config, (*head_keys, "num_attention_heads", "num_heads"))
    if layers is None or heads is None:
        return None
    return AttentionSize(layers, heads, rows, cols)


def _first_int(config: Any, keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = getattr(config, key, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def token_word_ids(encoded: Any) -> list[int | None] | None:
    """Each token's word from a fast tokenizer, unique across a pair; None from a slow tokenizer.

    ``word_ids()`` restarts at 0 for sentence B, so B's words are numbered after A's.
    """
    try:
        words = encoded.word_ids(0)
        sequences = encoded.sequence_ids(0)
    except ValueError:  # a slow tokenizer keeps no alignment
        return None
    offset = 1 + max((word for word, sequence in zip(words, sequences) if word is not None and sequence == 0), default=-1)
    return [None if word is None else word + (offset if sequence == 1 else 0) for word, sequence in zip(words, sequences)]


def _sentence_b_start(encoded: Any) -> int | None:
    """Index of sentence B's first token, from the fast tokenizer's sequence ids."""
    try:
        sequence_ids = encoded.sequence_ids(0)
    except ValueError:  # a slow tokenizer: fall back to token type ids
        type_ids = encoded.get("token_type_ids")
        if type_ids is None:
            return None
        ones = (type_ids[0] == 1).nonzero()
        return int(ones[0]) if len(ones) else None
    return next((index for index, sid in enumerate(sequence_ids) if sid == 1), None)
