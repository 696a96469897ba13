"""Kernel memory, measured in a fresh Python process so nothing else is resident.

Run by run.py as ``python benchmarks/measure_memory.py --child ...``; prints JSON.

* per widget: resident memory (RSS) added by creating N widgets on 512-token inputs,
  divided by N, against the float32 size of one widget's attention (RSS read after
  ``malloc_trim`` so that memory freed by the forward passes is not counted);
* close: RSS given back when N - 1 of them are closed and dropped (ideally
  (N - 1) x per widget);
* re-runs: RSS growth over R re-runs in a row on one widget, each asked by the page
  (``{"type": "run", sentence}``), alternating two inputs of the same length: the
  median RSS of the last ten re-runs minus that of the first ten (RSS swings by tens
  of MB from one re-run to the next as the allocator reuses memory), and the growth
  of live memory (RSS after ``malloc_trim``) from before to after.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import itertools
import json
import math
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class MemoryResult:
    tokens: int
    widgets: int
    rss_per_widget: float  # bytes
    float32_per_widget: int  # bytes of the attention as float32
    reruns: int
    rss_rerun_start: float  # median RSS over the first ten re-runs (after two warm-up ones)
    rss_rerun_end: float  # median RSS over the last ten
    rss_rerun_samples: list[float] = field(default_factory=list)  # RSS after every re-run
    rss_baseline: float = 0.0  # model loaded, one widget made and closed (trimmed)
    rss_rerun_start_trimmed: float = 0.0  # live memory (freed heap pages handed back) before the re-runs
    rss_rerun_end_trimmed: float = 0.0  # and after them
    freed_on_close: float = 0.0  # RSS given back by closing N - 1 of the widgets and dropping them

    @property
    def ratio(self) -> float:
        return self.rss_per_widget / self.float32_per_widget

    @property
    def rerun_growth(self) -> float:
        return self.rss_rerun_end - self.rss_rerun_start

    @property
    def rerun_live_growth(self) -> float:
        return self.rss_rerun_end_trimmed - self.rss_rerun_start_trimmed


def _rss(trim: bool = False) -> float:
    """Resident bytes after a GC; with ``trim``, after handing freed heap pages back to the OS.

    glibc keeps freed memory in its arenas, so without trimming RSS also counts
    memory that is free for reuse; trimming makes it count live memory only.
    """
    import psutil

    gc.collect()
    if trim:
        _malloc_trim()
    return float(psutil.Process().memory_info().rss)


def _malloc_trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def child(tokens: int, widgets: int, reruns: int, threads: int) -> MemoryResult:
    import torch

    from attnwidget import AttentionWidget, load_model
    from common import RecordingComm, text_with_tokens  # first: it sets the environment and import path

    if threads > 0:
        torch.set_num_threads(threads)

    loaded = load_model("offline")
    texts = (text_with_tokens(loaded.tokenizer, tokens), text_with_tokens(loaded.tokenizer, tokens, offset=61))
    with RecordingComm():
        warm = AttentionWidget(texts[1], model="offline")  # first-use allocations (torch, numpy pools)
        warm._page.on_message(warm, {"type": "run", "request": 1, "sentence": texts[0]}, [])
        warm.close()
        del warm
        baseline = _rss(trim=True)

        made = [AttentionWidget(texts[index % 2], model="offline") for index in range(widgets)]
        with_all = _rss(trim=True)
        per_widget = (with_all - baseline) / widgets
        float32 = 4 * math.prod(made[0].extraction.main.shape)  # without building `attention`
        kept = made[0]
        for other in made[1:]:
            other.close()
        del made, other
        freed_on_close = with_all - _rss(trim=True)

        others = itertools.cycle((texts[1], texts[0]))
        run = {"type": "run"}
        for _ in range(2):
            kept._page.on_message(kept, {**run, "request": kept._request + 1, "sentence": next(others)}, [])
        start_trimmed = _rss(trim=True)
        samples = []
        for _ in range(reruns):
            kept._page.on_message(kept, {**run, "request": kept._request + 1, "sentence": next(others)}, [])
            if kept.error:
                raise RuntimeError(kept.error)
            samples.append(_rss())
        end_trimmed = _rss(trim=True)
    # RSS swings with the allocator from one re-run to the next: compare the first
    # and the last ten re-runs, not two single readings.
    window = max(1, min(10, reruns // 2))
    return MemoryResult(
        tokens=tokens,
        widgets=widgets,
        rss_per_widget=per_widget,
        float32_per_widget=float32,
        reruns=reruns,
        rss_rerun_start=statistics.median(samples[:window]),
        rss_rerun_end=statistics.median(samples[-window:]),
        rss_rerun_samples=samples,
        rss_baseline=baseline,
        rss_rerun_start_trimmed=start_trimmed,
        rss_rerun_end_trimmed=end_trimmed,
        freed_on_close=freed_on_close,
    )


def measure_memory(
    tokens: int = 512, widgets: int = 5, reruns: int = 100, threads: int = 0, timeout: float = 600
) -> MemoryResult:
    """Run :func:`child` in a fresh interpreter and read its result."""
    if widgets < 2:
        raise ValueError("measure at least two widgets (one is kept for the re-runs)")
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        f"--tokens={tokens}",
        f"--widgets={widgets}",
        f"--reruns={reruns}",
        f"--threads={threads}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory child failed ({done.returncode}): {done.stderr[-3000:]}")
    return MemoryResult(**json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", action="store_true", required=True)
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--widgets", type=int, default=5)
    parser.add_argument("--reruns", type=int, default=100)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    result = child(args.tokens, args.widgets, args.reruns, args.threads)
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
