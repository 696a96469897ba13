"""Beyond looking: combine layers, characterise heads, read words, compare two models.

Plain numpy in and out, no widget code. Every function takes a float
``(layers, heads, rows, cols)`` attention array (or an :class:`~attnwidget.core.stack.AttentionStack`,
whose tokens and special-token flags are then used) and checks it first: a
wrong shape, NaN or infinite values, or mismatched arguments raise ValueError
naming the problem.

* :func:`rollout` — attention rollout (Abnar & Zuidema, 2020), ``combine.py``.
* :func:`head_stats` — one row per head: entropy, distance, self/previous/next/
  special shares and a ``pattern`` label, ``heads.py``.
* :func:`word_attention` — sub-word tokens to words (Clark et al., 2019), ``words.py``.
* :func:`head_change` — mean Jensen–Shannon divergence per head between two stacks, ``change.py``.
* :func:`compare_extractions` — two models aligned on one input, ``compare.py``.
* :func:`shown_extraction` — what the page shows: rollout and/or words, ``shown.py``.
"""

from .change import check_same_kind, head_change, matched_layers
from .combine import HEAD_FUSIONS, rollout, rollout_by_head
from .compare import Comparison, compare_extractions
from .heads import HEAD_COLUMNS, PATTERNS, classify_head, head_stats, head_stats_columns, layer_summary
from .shown import COMBINES, GRANULARITIES, analysis_caption, shown_extraction, words_stack
from .words import (
    split_at_word_marks,
    stack_word_ids,
    word_attention,
    word_groups,
    word_ids_from_tokens,
    word_labels,
)

__all__ = [
    "COMBINES",
    "GRANULARITIES",
    "HEAD_COLUMNS",
    "HEAD_FUSIONS",
    "PATTERNS",
    "Comparison",
    "analysis_caption",
    "check_same_kind",
    "classify_head",
    "compare_extractions",
    "head_change",
    "head_stats",
    "head_stats_columns",
    "layer_summary",
    "matched_layers",
    "rollout",
    "rollout_by_head",
    "shown_extraction",
    "split_at_word_marks",
    "stack_word_ids",
    "word_attention",
    "word_groups",
    "word_ids_from_tokens",
    "word_labels",
    "words_stack",
]
