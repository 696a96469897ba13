"""Long inputs from queries and keys: a random Llama-style decoder at 8,192 and 32,768 tokens.

Not part of run.py or the test run (it takes minutes). Each measurement runs in a
fresh process, so peak memory (ru_maxrss) is that mode's alone::

    python benchmarks/long_context.py --sizes 8192 32768 --threads 1

Model: 4 layers × 8 heads, d_head 32 (hidden 256), positions up to 32,768, random
weights. Modes: the bare forward pass (SDPA, no weights); the forward pass with
``capture_queries_keys_long``; then, from the captured queries and keys, what the
page would ask for one head: the log-sum-exp of every row, a whole-matrix heatmap
tile max-pooled to 800 × 800, one row, the 8 strongest keys of every row.

``widget`` mode builds ``AttentionWidget(text, model=...)`` with the default budget
(4 GiB, so 8,192 tokens and more are long inputs) on the offline tokenizer, timed
until it is ready to send its state, and then answers the page's ``long`` requests
through the widget's own message handler (the first paint's whole-matrix tile of the
mean of all heads at 438 × 597 cells, one head's tile, a token-focus row of all heads,
one head's top 8 keys for the last 1,024 rows (the head view's block; the last is the costliest),
one layer's thumbnails at 56 × 56).
Prints Markdown tables; ``--modes`` picks the modes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def build(n_positions: int):
    import torch
    from transformers import LlamaConfig, LlamaModel

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=1000,
        hidden_size=256,
        num_hidden_layers=4,
        num_attention_heads=8,
        num_key_value_heads=8,
        intermediate_size=512,
        max_position_embeddings=n_positions,
        attn_implementation="sdpa",
    )
    return LlamaModel(config).eval()


WIDGET_REQUESTS = {
    "tile_all_heads": {"what": "tile", "heads": list(range(8)), "size": [438, 597]},
    "tile_one_head": {"what": "tile", "heads": [5], "size": [438, 597]},
    "row": {"what": "line", "heads": list(range(8)), "axis": "row"},
    "top8": {"what": "top", "heads": [5], "count": 8},
    "thumbnails": {"what": "thumbs", "size": 56},
}


def long_input(n: int):
    """The model (on the offline tokenizer, as a ``LoadedModel``) and a text of exactly ``n`` tokens."""
    from transformers import AutoTokenizer

    from attnwidget.sources.models import LoadedModel, resolve_model_path

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path("offline"))
    tokenizer.model_max_length = n
    model = build(n)
    model.resize_token_embeddings(tokenizer.vocab_size)
    # One token per letter: 32,768 tokens in 65,536 characters, under the 100,000 a sentence may have.
    text = " ".join("abcdefghijklmnopqrstuvwxyz"[(i * 7) % 26] for i in range(n))
    return LoadedModel(model, tokenizer, "random-llama-4x8"), text


def widget_child(n: int) -> dict:
    """AttentionWidget on ``n`` tokens: seconds until ready, memory above the model, the page's requests answered."""
    import torch

    from attnwidget import AttentionWidget

    loaded, text = long_input(n)
    model = loaded.model
    ids = loaded.tokenizer(text, return_tensors="pt", truncation=True, max_length=n)["input_ids"]
    # Memory above the model: the peak of everything after it was built, the forward pass's own working memory
    # included (the widget runs one too); ru_maxrss only grows, so the widget's figure is the larger of the two.
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with torch.no_grad():
        start = time.perf_counter()
        model(input_ids=ids)  # the bare forward pass on the same ids, in this process: same threads, same warmth
        forward = time.perf_counter() - start
    forward_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    start = time.perf_counter()
    widget = AttentionWidget(text, model=loaded)
    ready = time.perf_counter() - start
    result: dict = {"mode": "widget", "n": len(widget.tokens), "forward": forward, "ready": ready}
    result["forward_peak_above_model_bytes"] = forward_peak
    result["peak_above_model_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    assert widget.is_long_input
    sent: list = []
    widget.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    rows = len(widget.tokens)
    for name, fields in WIDGET_REQUESTS.items():
        request = {"type": "long", "version": widget._data["version"], "stack": "self", "id": 1, "layer": 3, **fields}
        request.update(
            {
                "tile": {"rows": [0, rows], "cols": [0, rows]},
                "line": {"index": rows // 2},
                "top": {"rows": [max(0, rows - 1024), rows]},
            }.get(fields["what"], {})
        )
        begin = time.perf_counter()
        widget._page.on_message(widget, request, [])
        result[name] = time.perf_counter() - begin
        assert sent and sent[-1].get("error") is None and "shape" in sent[-1], (name, sent[-1:])
    result["peak_with_answers_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    return result


def child(mode: str, n: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    if mode == "widget":
        return widget_child(n)
    model = build(max(n, 32768))
    ids = torch.randint(0, 1000, (1, n), generator=torch.Generator().manual_seed(1))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result: dict = {"mode": mode, "n": n}
    start = time.perf_counter()
    if mode == "forward":
        with torch.no_grad():
            model(input_ids=ids)
        result["seconds"] = time.perf_counter() - start
    else:
        from attnwidget.long.blockwise import Head, attention_row, pooled_tile, row_logsumexp, top_keys
        from attnwidget.long.capture import capture_queries_keys_long

        with torch.no_grad(), capture_queries_keys_long(model) as capture:
            model(input_ids=ids)
        stack = capture.result()
        result["seconds"] = time.perf_counter() - start
        result["qk_bytes"] = stack.queries.nbytes + stack.keys.nbytes
        head = Head(stack, 3, 5)
        for name, work in (("lse", lambda: row_logsumexp(head)),):
            begin = time.perf_counter()
            lse = work()
            result[name] = time.perf_counter() - begin
        timed = {
            "tile": lambda: pooled_tile(head, lse, slice(0, n), slice(0, n), 800, 800),
            "row": lambda: attention_row(head, lse, n // 2),
            "top8": lambda: top_keys(head, lse, 8),
        }
        for name, work in timed.items():
            begin = time.perf_counter()
            work()
            result[name] = time.perf_counter() - begin
    result["peak_above_model_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8192])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--modes", nargs="+", default=["forward", "capture", "widget"])
    parser.add_argument("--child", nargs=2, metavar=("MODE", "N"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.threads)))
        return
    rows = []
    for n in args.sizes:
        measured = {}
        for mode in args.modes:
            command = [sys.executable, __file__, "--child", mode, str(n), "--threads", str(args.threads)]
            threads = {name: str(args.threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
            output = subprocess.run(command, check=True, capture_output=True, text=True, env={**os.environ, **threads}).stdout
            measured[mode] = json.loads(output.strip().splitlines()[-1])
            print(json.dumps(measured[mode]), file=sys.stderr)
        rows.append(measured)
    if any("widget" in measured for measured in rows):
        print_widget_table([measured["widget"] for measured in rows if "widget" in measured])
    rows = [measured for measured in rows if "forward" in measured and "capture" in measured]
    if not rows:
        return
    print()
    print(
        "| tokens | bare forward | forward + capture | q and k | peak above the model (forward / capture) "
        "| one head: row lse | 800×800 tile | one row | top 8 of every row |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for measured in rows:
        forward, capture = measured["forward"], measured["capture"]
        print(
            f"| {capture['n']:,} | {forward['seconds']:.1f} s | {capture['seconds']:.1f} s | "
            f"{capture['qk_bytes'] / 1e6:.0f} MB | {forward['peak_above_model_bytes'] / 1e9:.2f} / "
            f"{capture['peak_above_model_bytes'] / 1e9:.2f} GB | {capture['lse']:.2f} s | {capture['tile']:.2f} s | "
            f"{capture['row'] * 1e3:.1f} ms | {capture['top8']:.2f} s |"
        )


def print_widget_table(measured: list[dict]) -> None:
    print(
        "| tokens | bare forward | widget ready (target ≤ forward + 2 s) | peak memory above the model: "
        "bare forward / widget ready / after the requests | tile, all 8 heads | tile, one head | row, all heads "
        "| top 8 keys, last 1,024 rows | thumbnails, one layer |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for m in measured:
        print(
            f"| {m['n']:,} | {m['forward']:.1f} s | {m['ready']:.1f} s | "
            f"{m['forward_peak_above_model_bytes'] / 1e9:.2f} / {m['peak_above_model_bytes'] / 1e9:.2f} / "
            f"{m['peak_with_answers_bytes'] / 1e9:.2f} GB | {m['tile_all_heads']:.2f} s | {m['tile_one_head']:.2f} s | "
            f"{m['row'] * 1e3:.0f} ms | {m['top8']:.2f} s | {m['thumbnails']:.2f} s |"
        )


if __name__ == "__main__":
    main()
