"""The heatmap's max-pooling written as a loop: the reference the blockwise tiles are checked against."""

from __future__ import annotations

import math

import numpy as np


def max_pool_by_loop(matrix: np.ndarray, out_rows: int, out_cols: int) -> np.ndarray:
    """Each screen cell i covers values [ceil(i·n/out), ceil((i+1)·n/out)); its value is their largest.

    A side with fewer values than cells gets one cell per value.
    """
    rows, cols = matrix.shape
    out_rows, out_cols = min(out_rows, rows), min(out_cols, cols)
    row_edges = [math.ceil(i * rows / out_rows) for i in range(out_rows + 1)]
    col_edges = [math.ceil(j * cols / out_cols) for j in range(out_cols + 1)]
    out = np.zeros((out_rows, out_cols), dtype=np.float32)
    for i in range(out_rows):
        for j in range(out_cols):
            out[i, j] = matrix[row_edges[i] : row_edges[i + 1], col_edges[j] : col_edges[j + 1]].max()
    return out
