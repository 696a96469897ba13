"""The forward pass of a long input: fused attention, queries and keys kept, no n × n weights.

Called by ``forward.extract(..., long_inputs=True)`` for a self-attention input whose
float32 attention would exceed ``max_attention_bytes`` (see ``long/``).
"""

from __future__ import annotations

from typing import Any

import torch

from ..core.budget import human_bytes
from ..core.queries import QueryKeys
from ..core.stack import SELF, Extraction
from ..long.capture import capture_queries_keys_long
from ..long.stack import LongStack, logsumexp_all, one_blas_thread
from .models import LoadedModel
from .shapes import output_shapes


def extract_long(
    loaded: LoadedModel, encoded: Any, special: list[bool], notes: list[str], b_start: int | None, needed_bytes: int
) -> Extraction:
    """Run ``loaded`` once on ``encoded`` with fused attention, keeping queries, keys and row log-sum-exps."""
    input_ids = encoded["input_ids"]
    # One unpadded sequence: an all-ones attention mask adds nothing but would be stored as n × n.
    inputs = {key: value for key, value in encoded.items() if key != "attention_mask"}
    try:
        with torch.no_grad(), capture_queries_keys_long(loaded.model) as capture:
            output = loaded.model(**inputs)
        queries = capture.result()
        lse = capture.row_logsumexp()  # from the flash kernel, or None: then computed blockwise below
    except Exception as error:  # noqa: BLE001 - a family without SDPA support: say why, in the budget's terms
        raise ValueError(
            f"the attention for this input would take {human_bytes(needed_bytes)}, over max_attention_bytes, "
            f"and {loaded.name!r} cannot run in long-input mode ({type(error).__name__}: {error}): shorten the "
            "input or pass a larger max_attention_bytes"
        ) from None
    queries.make_read_only()
    tokens = loaded.tokenizer.convert_ids_to_tokens(input_ids[0].tolist())
    lse = one_blas_thread(lambda: logsumexp_all(queries)) if lse is None else lse
    lse.flags.writeable = False
    stack = LongStack(
        name=SELF,
        queries=queries,
        lse=lse,
        row_tokens=tokens,
        col_tokens=tokens,
        row_special=special,
        col_special=special,
        causal=queries.causal,
        row_b_start=b_start,
        col_b_start=b_start,
    )
    shapes = {
        "input_ids": list(input_ids.shape),
        **output_shapes(output, ("last_hidden_state", "logits")),
        "queries": list(queries.queries.shape),
        "keys": list(queries.keys.shape),
    }
    note = (
        f"long input: its attention would take {human_bytes(needed_bytes)}, so the widget keeps the queries and "
        "keys and computes what is shown on demand, exactly"
    )
    return Extraction(
        stacks={SELF: stack},
        model_name=loaded.name,
        shapes=shapes,
        notes=[*notes, note],
        queries=QueryKeys(stacks={SELF: queries}),
    )
