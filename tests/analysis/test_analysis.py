"""rollout, head_stats, word_attention and head_change against plain loops written here.

Each expected value is computed element by element in Python over small random
row-stochastic arrays (bidirectional, causal, sentence pairs, cross-attention),
never by calling the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnwidget import extract, head_change, head_stats, rollout, word_attention
from attnwidget.analysis import (
    layer_summary,
    matched_layers,
    rollout_by_head,
    word_ids_from_tokens,
    word_labels,
)
from attnwidget.core.stack import AttentionStack


def random_attention(
    seed: int, layers: int = 3, heads: int = 2, rows: int = 5, cols: int | None = None, *, causal: bool = False
) -> np.ndarray:
    """Rows drawn from a Dirichlet, so each sums to 1; causal rows see only columns ≤ their own."""
    rng = np.random.default_rng(seed)
    cols = rows if cols is None else cols
    out = np.zeros((layers, heads, rows, cols))
    for l in range(layers):
        for h in range(heads):
            for i in range(rows):
                width = i + 1 if causal else cols
                out[l, h, i, :width] = rng.dirichlet(np.ones(width) * 0.7)
    return out.astype(np.float32)


# ---- rollout -------------------------------------------------------------------------------------


def loop_rollout(a: np.ndarray, fusion: str, residual: float) -> list[list[list[float]]]:
    """Abnar & Zuidema's recurrence with lists and loops only."""
    layers, heads, n, _ = a.shape
    pick = {"mean": lambda values: sum(values) / len(values), "max": max, "min": min}[fusion]
    result: list[list[list[float]]] = []
    previous = None
    for l in range(layers):
        mixed = []
        for i in range(n):
            row = [residual * (i == j) + (1 - residual) * pick([float(a[l, h, i, j]) for h in range(heads)]) for j in range(n)]
            total = sum(row)
            mixed.append([value / total for value in row])
        if previous is None:
            current = mixed
        else:
            current = [[sum(mixed[i][k] * previous[k][j] for k in range(n)) for j in range(n)] for i in range(n)]
        result.append(current)
        previous = current
    return result


@pytest.mark.parametrize("fusion", ["mean", "max", "min"])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("residual", [0.0, 0.5, 0.9])
def test_rollout_matches_the_recurrence_written_as_loops(fusion: str, causal: bool, residual: float) -> None:
    a = random_attention(1, layers=3, heads=3, rows=5, causal=causal)
    out = rollout(a, head_fusion=fusion, residual=residual)
    assert out.shape == (3, 5, 5) and out.dtype == np.float32
    np.testing.assert_allclose(out, np.array(loop_rollout(a, fusion, residual)), atol=1e-6)
    np.testing.assert_allclose(out.sum(axis=2), 1.0, atol=1e-5)


def test_causal_rollout_stays_causal() -> None:
    out = rollout(random_attention(2, rows=6, causal=True))
    for l in range(out.shape[0]):
        for i in range(6):
            for j in range(i + 1, 6):
                assert out[l, i, j] == 0.0


def test_rollout_by_head_composes_each_head_with_the_fused_rollout_below() -> None:
    a = random_attention(3, layers=3, heads=4, rows=5)
    out = rollout_by_head(a, residual=0.3)
    fused = loop_rollout(a, "mean", 0.3)
    for l in range(3):
        for h in range(4):
            mixed = [[0.3 * (i == j) + 0.7 * float(a[l, h, i, j]) for j in range(5)] for i in range(5)]
            expected = (
                mixed
                if l == 0
                else [[sum(mixed[i][k] * fused[l - 1][k][j] for k in range(5)) for j in range(5)] for i in range(5)]
            )
            np.testing.assert_allclose(out[l, h], np.array(expected), atol=1e-5)
    # The mean over heads is the mean-fused rollout itself.
    np.testing.assert_allclose(out.mean(axis=1), np.array(fused), atol=1e-5)


@pytest.mark.parametrize("residual", [-0.1, 1.5, float("nan"), "0.5", True])
def test_rollout_refuses_a_residual_outside_0_to_1(residual: object) -> None:
    with pytest.raises(ValueError, match="residual must be a number between 0 and 1"):
        rollout(random_attention(0), residual=residual)  # type: ignore[arg-type]


def test_rollout_names_bad_input() -> None:
    with pytest.raises(ValueError, match="needs self-attention"):
        rollout(random_attention(0, rows=4, cols=6))
    with pytest.raises(ValueError, match="4 dimensions"):
        rollout(np.ones((3, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="head_fusion must be one of"):
        rollout(random_attention(0), head_fusion="median")
    broken = random_attention(0)
    broken[1, 0, 2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite values \\(first in layer 1\\)"):
        rollout(broken)


# ---- head statistics ------------------------------------------------------------------------------


def loop_stats(a: np.ndarray, special: list[bool]) -> dict[tuple[int, int], dict[str, float]]:
    layers, heads, n, _ = a.shape
    out = {}
    for l in range(layers):
        for h in range(heads):
            rows = [[float(a[l, h, i, j]) for j in range(n)] for i in range(n)]
            entropy = sum(-sum(p * math.log2(p) for p in row if p > 0) for row in rows) / n
            distance = sum(sum(rows[i][j] * abs(i - j) for j in range(n)) for i in range(n)) / n
            out[(l, h)] = {
                "entropy": entropy,
                "distance": distance,
                "self": sum(rows[i][i] for i in range(n)) / n,
                "previous": sum(rows[i][i - 1] for i in range(1, n)) / (n - 1),
                "next": sum(rows[i][i + 1] for i in range(n - 1)) / (n - 1),
                "special": sum(sum(rows[i][j] for j in range(n) if special[j]) for i in range(n)) / n,
            }
    return out


@pytest.mark.parametrize("causal", [False, True])
def test_head_stats_match_loops(causal: bool) -> None:
    a = random_attention(4, layers=2, heads=3, rows=6, causal=causal)
    tokens = ["[CLS]", "the", "river", "bank", ".", "[SEP]"]
    stats = head_stats(a, tokens)
    assert list(stats.columns) == ["layer", "head", "entropy", "distance", "self", "previous", "next", "special", "pattern"]
    assert len(stats) == 6
    expected = loop_stats(a, [True, False, False, False, False, True])
    for row in stats.itertuples():
        for name, value in expected[(row.layer, row.head)].items():
            assert getattr(row, name) == pytest.approx(value, abs=1e-5), (row.layer, row.head, name)


def one_hot_head(n: int, target: str) -> np.ndarray:
    """A head whose every row puts all its weight on one place: previous, next, itself, or [CLS]."""
    head = np.zeros((n, n), dtype=np.float32)
    for i in range(n):
        j = {"previous": max(i - 1, 0), "next": min(i + 1, n - 1), "self": i, "special": 0}[target]
        head[i, j] = 1.0
    return head


def test_head_patterns_follow_the_documented_thresholds() -> None:
    n = 8
    heads = [one_hot_head(n, name) for name in ("previous", "next", "self", "special")]
    uniform = np.full((n, n), 1 / n, dtype=np.float32)
    local = np.zeros((n, n), dtype=np.float32)  # a third each on previous, self, next
    for i in range(n):
        for j in (i - 1, i, i + 1):
            local[i, min(max(j, 0), n - 1)] += 1 / 3
    stats = head_stats(np.stack([*heads, uniform, local])[None], special=[True] + [False] * (n - 1))
    assert list(stats["pattern"]) == ["previous", "next", "self", "special", "broad", "local"]


def test_head_stats_of_cross_attention_leave_positional_columns_empty() -> None:
    stats = head_stats(random_attention(5, rows=4, cols=7))
    assert stats["distance"].isna().all() and stats["previous"].isna().all() and stats["special"].isna().all()
    assert set(stats["pattern"]) <= {"broad", "other"}


def test_head_stats_name_mismatched_tokens() -> None:
    with pytest.raises(ValueError, match="tokens has 3 tokens but the attention has 5 columns"):
        head_stats(random_attention(0), ["a", "b", "c"])
    with pytest.raises(ValueError, match="special has 2 flags"):
        head_stats(random_attention(0), special=[True, False])


def test_layer_summary_merges_layers_alike() -> None:
    stats = {
        "layer": [0, 0, 1, 1, 2, 2],
        "pattern": ["previous", "next", "previous", "next", "special", "special"],
    }
    assert layer_summary(stats) == "layers 0–1: mostly next/previous-token heads; layer 2: mostly special-token-sink heads"


# ---- words ---------------------------------------------------------------------------------------


def loop_words(a: np.ndarray, row_ids: list, col_ids: list) -> np.ndarray:
    """Clark et al.: to-word sums over the word's columns, from-word means over its rows."""

    def groups(ids: list) -> list[list[int]]:
        seen: dict = {}
        for index, word in enumerate(ids):
            seen.setdefault(("special", index) if word is None else word, []).append(index)
        return list(seen.values())

    rows, cols = groups(row_ids), groups(col_ids)
    out = np.zeros((a.shape[0], a.shape[1], len(rows), len(cols)))
    for l in range(a.shape[0]):
        for h in range(a.shape[1]):
            for wi, row_group in enumerate(rows):
                for wj, col_group in enumerate(cols):
                    total = 0.0
                    for i in row_group:
                        for j in col_group:
                            total += float(a[l, h, i, j])
                    out[l, h, wi, wj] = total / len(row_group)
    return out


# A sentence pair: [CLS] the em ##bank ##ment [SEP] river ##s [SEP]
PAIR_IDS = [None, 0, 1, 1, 1, None, 2, 2, None]


@pytest.mark.parametrize("causal", [False, True])
def test_word_attention_sums_to_words_and_averages_from_words(causal: bool) -> None:
    a = random_attention(6, layers=2, heads=2, rows=len(PAIR_IDS), causal=causal)
    out = word_attention(a, PAIR_IDS)
    assert out.shape == (2, 2, 6, 6)
    np.testing.assert_allclose(out, loop_words(a, PAIR_IDS, PAIR_IDS), atol=1e-6)
    np.testing.assert_allclose(out.sum(axis=3), 1.0, atol=1e-5)


def test_a_word_whose_pieces_are_apart_is_still_one_word() -> None:
    ids = [None, 0, 1, 0, 2, 1]  # word 0 at tokens 1 and 3: the general (matrix product) path
    a = random_attention(10, layers=2, heads=2, rows=len(ids))
    out = word_attention(a, ids)
    assert out.shape == (2, 2, 4, 4)
    np.testing.assert_allclose(out, loop_words(a, ids, ids), atol=1e-6)


def test_word_attention_of_cross_attention_needs_column_ids() -> None:
    a = random_attention(7, rows=4, cols=6)
    with pytest.raises(ValueError, match="pass col_word_ids"):
        word_attention(a, [0, 0, 1, None])
    out = word_attention(a, [0, 0, 1, None], [None, 0, 1, 1, 2, None])
    np.testing.assert_allclose(out, loop_words(a, [0, 0, 1, None], [None, 0, 1, 1, 2, None]), atol=1e-6)


def test_word_attention_names_bad_word_ids() -> None:
    a = random_attention(0)
    with pytest.raises(ValueError, match="word_ids has 3 entries but the attention has 5 tokens"):
        word_attention(a, [0, 1, 2])
    with pytest.raises(ValueError, match=r"word_ids\[1\] must be a word number"):
        word_attention(a, [0, -1, 2, 3, 4])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=1, max_size=7),
    st.integers(0, 2**16),
)
def test_word_rows_always_sum_to_one(word_ids: list, seed: int) -> None:
    a = random_attention(seed, layers=1, heads=2, rows=len(word_ids))
    out = word_attention(a, word_ids)
    np.testing.assert_allclose(out.sum(axis=3), 1.0, atol=1e-5)
    np.testing.assert_allclose(out, loop_words(a, word_ids, word_ids), atol=1e-5)


@pytest.mark.parametrize(
    ("tokens", "expected_ids", "labels"),
    [
        (["[CLS]", "em", "##bank", "##ment", ".", "[SEP]"], [None, 0, 0, 0, 1, None], ["[CLS]", "embankment", ".", "[SEP]"]),
        (
            ["<s>", "The", "Ġemb", "ank", "ment", ".", "</s>"],
            [None, 0, 1, 1, 1, 2, None],
            ["<s>", "The", "Ġembankment", ".", "</s>"],
        ),
        (["▁The", "▁em", "bank", "ment", ".", "</s>"], [0, 1, 1, 1, 2, None], ["▁The", "▁embankment", ".", "</s>"]),
    ],
    ids=["wordpiece", "byte-level-bpe", "sentencepiece"],
)
def test_words_are_guessed_from_each_tokenizer_family(tokens: list[str], expected_ids: list, labels: list[str]) -> None:
    ids = word_ids_from_tokens(tokens)
    assert ids == expected_ids
    assert word_labels(tokens, ids) == labels


def test_a_tokenizer_that_calls_everything_one_word_is_split_at_word_marks() -> None:
    from attnwidget.analysis import split_at_word_marks

    tokens = ["<s>", "▁the", "▁river", "b", "ank", "▁", "u", "n", "</s>"]
    assert split_at_word_marks([None, 0, 0, 0, 0, 0, 0, 0, None], tokens) == [None, 0, 1, 1, 1, 2, 2, 2, None]
    assert split_at_word_marks([None, 0, 1, 1, None], ["[CLS]", "the", "em", "##bank", "[SEP]"]) == [None, 0, 1, 1, None]


def test_extraction_carries_the_tokenizers_word_ids_across_a_pair() -> None:
    stack = extract("offline", "The tokenization", sentence_b="rivers flow").main
    assert stack.row_tokens == ["[CLS]", "the", "token", "##ization", "[SEP]", "rivers", "flow", "[SEP]"]
    assert stack.row_word_ids == [None, 0, 1, 1, None, 2, 3, None]  # sentence B numbered after A
    assert word_attention(stack).shape[2:] == (7, 7)


# ---- comparing -------------------------------------------------------------------------------------


def loop_js(p: list[float], q: list[float]) -> float:
    m = [(x + y) / 2 for x, y in zip(p, q)]
    kl = lambda u: sum(x * math.log2(x / y) for x, y in zip(u, m) if x > 0)  # noqa: E731
    return (kl(p) + kl(q)) / 2


@pytest.mark.parametrize("causal", [False, True])
def test_head_change_is_the_mean_js_divergence_of_rows(causal: bool) -> None:
    a = random_attention(8, layers=2, heads=3, rows=5, causal=causal)
    b = random_attention(9, layers=2, heads=3, rows=5, causal=causal)
    out = head_change(a, b)
    assert out.shape == (2, 3)
    for l in range(2):
        for h in range(3):
            rows = [loop_js([float(v) for v in a[l, h, i]], [float(v) for v in b[l, h, i]]) for i in range(5)]
            assert out[l, h] == pytest.approx(sum(rows) / 5, abs=1e-6)
    assert np.all(head_change(a, a) == 0)


def test_head_change_refuses_different_shapes_and_kinds() -> None:
    with pytest.raises(ValueError, match="attention_a has shape"):
        head_change(random_attention(0, rows=5), random_attention(0, rows=4))
    a = random_attention(0, rows=3)
    tokens = ["a", "b", "c"]
    self_stack = AttentionStack("self", a, tokens, tokens, [False] * 3, [False] * 3)
    cross = AttentionStack("cross", a, tokens, tokens, [False] * 3, [False] * 3)
    with pytest.raises(ValueError, match="cannot compare self-attention .* with cross-attention"):
        head_change(self_stack, cross)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(6, 12, [0, 2, 4, 7, 9, 11]), (12, 6, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]), (1, 4, [3]), (3, 3, [0, 1, 2])],
)
def test_layers_are_matched_by_relative_depth(a: int, b: int, expected: list[int]) -> None:
    assert matched_layers(a, b) == expected
