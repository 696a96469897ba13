"""A full stack and a long one offer the same face; only readers of every weight tell them apart."""

from __future__ import annotations

import numpy as np
import pytest

from attnwidget.core.queries import StackQueries
from attnwidget.core.stack import AttentionStack, Extraction, Stack, is_causal
from attnwidget.long.stack import LongStack, logsumexp_all

TOKENS = ["[CLS]", "the", "bank", "[SEP]"]
SPECIAL = [True, False, False, True]


def full_stack() -> AttentionStack:
    weights = np.random.default_rng(0).dirichlet(np.ones(4), size=(2, 3, 4)).astype(np.float32)
    return AttentionStack("self", tuple(weights), TOKENS, TOKENS, SPECIAL, SPECIAL)


def long_stack() -> LongStack:
    rng = np.random.default_rng(1)
    queries = StackQueries(
        rng.normal(size=(2, 3, 4, 8)).astype(np.float32),
        rng.normal(size=(2, 3, 4, 8)).astype(np.float32),
        (0.35, 0.35),
        (None, None),
    )
    return LongStack("self", queries, logsumexp_all(queries), TOKENS, TOKENS, SPECIAL, SPECIAL)


@pytest.mark.parametrize("make", [full_stack, long_stack], ids=["full", "long"])
def test_both_kinds_of_stack_offer_everything_the_stack_protocol_names(make) -> None:
    stack: Stack = make()
    protocol_members = {name for name in Stack.__dict__ if not name.startswith("_")} | {"is_long"}
    assert protocol_members <= set(dir(stack))  # dir, not hasattr: a long stack's attention raises
    assert stack.shape == (2, 3, 4, 4) and stack.n_layers == 2 and stack.n_heads == 3
    assert stack.is_long is isinstance(stack, LongStack)


def test_a_long_stack_has_no_attention_array_and_says_what_to_use_instead() -> None:
    with pytest.raises(ValueError, match=r"w\.attention_layer\(layer\)"):
        _ = long_stack().attention


def test_readers_of_every_weight_get_the_full_stack_or_a_reason_naming_what_they_need() -> None:
    full = Extraction({"self": full_stack()}, "m")
    assert full.weights("self", "rollout") is full.stacks["self"]
    long = Extraction({"self": long_stack()}, "m")
    assert long.full_stacks == {}
    with pytest.raises(ValueError, match="rollout reads every weight.*long input"):
        long.weights("self", "rollout")


def test_causal_means_no_row_attends_to_a_later_column() -> None:
    lower = np.tril(np.ones((4, 4), dtype=np.float32))[None]
    assert is_causal([lower]) and not is_causal([np.ones((1, 4, 4), dtype=np.float32)])
