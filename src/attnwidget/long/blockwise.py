"""Attention computed from queries and keys, block by block, without materialising n × n.

Full attention is layers · heads · n² values; queries and keys are layers · heads ·
n · d_head each. Everything here is exact (no sampling, float32 like the model) and
touches at most ``block × block`` scores at a time:

* :func:`row_logsumexp`: each row's log-sum-exp of ``q·k·scale + bias``, computed once
  (online, as flash attention does); a weight is then ``exp(score − lse[row])``;
* :func:`attention_block`, :func:`attention_row`: any rectangle or row of weights;
* :func:`pooled_tile`: a rectangle max-pooled to screen resolution (what a heatmap draws);
* :func:`top_keys`: each row's strongest keys (what the head view draws);
* :func:`attention_layer`: one whole layer, when it fits.

They read one :class:`Head` of a :class:`~attnwidget.core.queries.StackQueries`, so they
serve every family ``sources.capture`` captures, and a causal mask is computed block by
block, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.queries import StackQueries

BLOCK = 512
"""Rows and columns per block: 512 × 512 float32 scores are 1 MiB."""


@dataclass(frozen=True)
class Head:
    """One head of one layer: its queries ``q`` (rows, d_head) and the keys ``k`` (cols, d_head) it reads."""

    stack: StackQueries
    layer: int
    index: int

    @property
    def q(self) -> np.ndarray:
        return self.stack.queries[self.layer, self.index]

    @property
    def k(self) -> np.ndarray:
        return self.stack.keys[self.layer, self.stack.key_head(self.index)]


def scores_block(head: Head, rows: slice, cols: slice) -> np.ndarray:
    """The softmax's input for a rectangle: ``q·kᵀ·scale + bias``, float32."""
    cols = slice(cols.start, min(cols.stop, head.k.shape[0]))
    scores = head.q[rows] @ head.k[cols].T
    scores *= np.float32(head.stack.scales[head.layer])
    bias = head.stack.bias_block(head.layer, head.index, rows, cols)
    if bias is not None:
        scores += bias
    return scores


def column_blocks(head: Head, rows: slice, block: int) -> range:
    """Where the blocks of columns start that ``rows`` can see: a causal head's rows see no later column."""
    end = head.k.shape[0]
    if head.stack.causal:
        end = min(end, rows.stop)
    return range(0, end, block)


def row_logsumexp(head: Head, block: int = BLOCK) -> np.ndarray:
    """Each row's log-sum-exp over all keys, float64 ``(rows,)``, reading one block of scores at a time."""
    n_rows = head.q.shape[0]
    out = np.empty(n_rows, dtype=np.float64)
    for r0 in range(0, n_rows, block):
        rows = slice(r0, min(n_rows, r0 + block))
        top = np.full(rows.stop - r0, -np.inf)
        total = np.zeros(rows.stop - r0)
        for c0 in column_blocks(head, rows, block):
            scores = scores_block(head, rows, slice(c0, c0 + block))
            new_top = np.maximum(top, scores.max(axis=1))
            shifted = np.exp(scores - new_top[:, None].astype(np.float32))
            total = total * np.exp(top - new_top) + shifted.sum(axis=1, dtype=np.float64)
            top = new_top
        out[rows] = top + np.log(total)
    return out


def weights_from_scores(scores: np.ndarray, lse: np.ndarray) -> np.ndarray:
    """``exp(score − lse)`` row by row, float32: the softmax without ever summing again."""
    return np.exp(scores - lse[:, None].astype(np.float32))


def attention_block(head: Head, lse: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    """The attention weights of a rectangle, float32, given the rows' log-sum-exp."""
    return weights_from_scores(scores_block(head, rows, cols), lse[rows])


def attention_row(head: Head, lse: np.ndarray, row: int) -> np.ndarray:
    """One row of weights (what the token-focus panel shows), float32 ``(cols,)``."""
    return attention_block(head, lse, slice(row, row + 1), slice(0, head.k.shape[0]))[0]


def pool_bins(size: int, bins: int) -> np.ndarray:
    """The screen cell of each of ``size`` values when ``bins`` cells cover them (contiguous, in order)."""
    bins = max(1, min(bins, size))
    return (np.arange(size, dtype=np.int64) * bins) // size


def pooled_tile(
    head: Head, lse: np.ndarray, rows: slice, cols: slice, out_rows: int, out_cols: int, block: int = BLOCK
) -> np.ndarray:
    """A rectangle max-pooled to at most ``out_rows × out_cols`` cells: each cell is the largest weight it covers."""
    row_bin = pool_bins(rows.stop - rows.start, out_rows)
    col_bin = pool_bins(cols.stop - cols.start, out_cols)
    tile = np.zeros((row_bin[-1] + 1, col_bin[-1] + 1), dtype=np.float32)
    for r0 in range(rows.start, rows.stop, block):
        r1 = min(rows.stop, r0 + block)
        row_starts, row_cells = _runs(row_bin[r0 - rows.start : r1 - rows.start])
        last_col = min(cols.stop, r1) if head.stack.causal else cols.stop  # later blocks are all zero
        for c0 in range(cols.start, last_col, block):
            c1 = min(cols.stop, c0 + block)
            col_starts, col_cells = _runs(col_bin[c0 - cols.start : c1 - cols.start])
            # Within a row, the largest weight is exp(largest score − lse): pool the scores over
            # columns first, so exp runs on one value per screen column, not per key.
            by_column = np.maximum.reduceat(scores_block(head, slice(r0, r1), slice(c0, c1)), col_starts, axis=1)
            weights = weights_from_scores(by_column, lse[r0:r1])
            pooled = np.maximum.reduceat(weights, row_starts, axis=0)
            cells = np.ix_(row_cells, col_cells)
            tile[cells] = np.maximum(tile[cells], pooled)
    return tile


def pooled_mean_tile(
    heads: list[Head], lses: list[np.ndarray], rows: slice, cols: slice, out_rows: int, out_cols: int, block: int = BLOCK
) -> np.ndarray:
    """The mean over ``heads`` of a rectangle, max-pooled like :func:`pooled_tile` (the mean first, then the max)."""
    if len(heads) == 1:
        return pooled_tile(heads[0], lses[0], rows, cols, out_rows, out_cols, block)
    row_bin = pool_bins(rows.stop - rows.start, out_rows)
    col_bin = pool_bins(cols.stop - cols.start, out_cols)
    tile = np.zeros((row_bin[-1] + 1, col_bin[-1] + 1), dtype=np.float32)
    causal = heads[0].stack.causal
    for r0 in range(rows.start, rows.stop, block):
        r1 = min(rows.stop, r0 + block)
        row_starts, row_cells = _runs(row_bin[r0 - rows.start : r1 - rows.start])
        for c0 in range(cols.start, min(cols.stop, r1) if causal else cols.stop, block):
            c1 = min(cols.stop, c0 + block)
            col_starts, col_cells = _runs(col_bin[c0 - cols.start : c1 - cols.start])
            mean = sum(attention_block(h, lse, slice(r0, r1), slice(c0, c1)) for h, lse in zip(heads, lses))
            mean /= np.float32(len(heads))
            pooled = np.maximum.reduceat(np.maximum.reduceat(mean, col_starts, axis=1), row_starts, axis=0)
            cells = np.ix_(row_cells, col_cells)
            tile[cells] = np.maximum(tile[cells], pooled)
    return tile


def _runs(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of equal cells starts in ``cells``, and the cell of each run."""
    starts = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]])
    return starts, cells[starts]


def top_keys(
    head: Head, lse: np.ndarray, count: int, block: int = BLOCK, rows: slice | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``count`` strongest keys: (indices int32, weights float32), ``(rows, count)``, strongest first.

    ``rows`` limits the work to those rows (all by default): the head view asks for the rows it shows.
    """
    n_cols = head.k.shape[0]
    rows = slice(0, head.q.shape[0]) if rows is None else rows
    count = min(count, n_cols)
    keys = np.empty((rows.stop - rows.start, count), dtype=np.int32)
    weights = np.empty((rows.stop - rows.start, count), dtype=np.float32)
    for r0 in range(rows.start, rows.stop, block):
        part = slice(r0, min(rows.stop, r0 + block))
        out = slice(r0 - rows.start, part.stop - rows.start)
        # The strongest keys of a row are those of its largest scores: rank scores, exp only the winners.
        best_s = np.empty((part.stop - r0, 0), dtype=np.float32)
        best_k = np.empty((part.stop - r0, 0), dtype=np.int64)
        for c0 in _top_key_blocks(head, part, block, count):
            block_s = scores_block(head, part, slice(c0, c0 + block))
            best_s = np.concatenate([best_s, block_s], axis=1)
            block_k = np.broadcast_to(np.arange(c0, c0 + block_s.shape[1]), block_s.shape)
            best_k = np.concatenate([best_k, block_k], axis=1)
            if best_s.shape[1] > count:  # keep the running top `count` only
                keep = np.argpartition(-best_s, count - 1, axis=1)[:, :count]
                best_s, best_k = np.take_along_axis(best_s, keep, axis=1), np.take_along_axis(best_k, keep, axis=1)
        order = np.lexsort((best_k, -best_s), axis=1)  # strongest first, ties by key index
        weights[out] = weights_from_scores(np.take_along_axis(best_s, order, axis=1), lse[part])
        keys[out] = np.take_along_axis(best_k, order, axis=1)
    return keys, weights


def _top_key_blocks(head: Head, rows: slice, block: int, count: int) -> range:
    """The visible blocks of columns, and enough masked ones that every row has ``count`` candidates."""
    visible = column_blocks(head, rows, block)
    needed = -(-count // block) * block  # whole blocks covering `count` columns
    return range(0, max(visible.stop, min(needed, head.k.shape[0])), block)


def attention_layer(stack: StackQueries, layer: int, max_bytes: int) -> np.ndarray:
    """One layer's attention, float32 ``(heads, rows, cols)``, when it fits in ``max_bytes``."""
    heads, rows, cols = stack.n_heads, stack.queries.shape[2], stack.keys.shape[2]
    needed = heads * rows * cols * 4
    if needed > max_bytes:
        raise ValueError(
            f"one layer's attention would take {needed / 1e9:.2f} GB ({heads} heads × {rows} × {cols} × 4 bytes), "
            f"over the budget of {max_bytes / 1e9:.2f} GB: ask for rows, tiles or top keys instead"
        )
    out = np.empty((heads, rows, cols), dtype=np.float32)
    for head in range(heads):
        one = Head(stack, layer, head)
        lse = row_logsumexp(one)
        for r0 in range(0, rows, BLOCK):
            block_rows = slice(r0, min(rows, r0 + BLOCK))
            out[head, block_rows] = attention_block(one, lse, block_rows, slice(0, cols))
    return out
