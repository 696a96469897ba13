"""Long inputs from queries and keys: a random Llama-style decoder at 8,192 and 32,768 tokens.

Not part of run.py or the test run (it takes minutes). Each measurement runs in a
fresh process, so peak memory (ru_maxrss) is that mode's alone::

    python benchmarks/long_context.py --sizes 8192 32768 --threads 1

Model: 4 layers × 8 heads, d_head 32 (hidden 256), positions up to 32,768, random
weights. Modes: the bare forward pass (SDPA, no weights); the forward pass with
``capture_queries_keys_long``; then, from the captured queries and keys, what the
page would ask for one head: the log-sum-exp of every row, a whole-matrix heatmap
tile max-pooled to 800 × 800, one row, the 8 strongest keys of every row.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def build(n_positions: int):
    import torch
    from transformers import LlamaConfig, LlamaModel

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=1000, hidden_size=256, num_hidden_layers=4, num_attention_heads=8, num_key_value_heads=8,
        intermediate_size=512, max_position_embeddings=n_positions, attn_implementation="sdpa",
    )
    return LlamaModel(config).eval()


def child(mode: str, n: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
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
        from attnwidget.blockwise import Head, attention_row, pooled_tile, row_logsumexp, top_keys
        from attnwidget.longcapture import capture_queries_keys_long

        with torch.no_grad(), capture_queries_keys_long(model) as capture:
            model(input_ids=ids)
        stack = capture.result()
        result["seconds"] = time.perf_counter() - start
        result["qk_bytes"] = stack.queries.nbytes + stack.keys.nbytes
        head = Head(stack, 3, 5)
        for name, work in (
            ("lse", lambda: row_logsumexp(head)),
        ):
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
    parser.add_argument("--child", nargs=2, metavar=("MODE", "N"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.threads)))
        return
    rows = []
    for n in args.sizes:
        measured = {}
        for mode in ("forward", "capture"):
            command = [sys.executable, __file__, "--child", mode, str(n), "--threads", str(args.threads)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            measured[mode] = json.loads(output.strip().splitlines()[-1])
        rows.append(measured)
    print("| tokens | bare forward | forward + capture | q and k | peak above the model (forward / capture) "
          "| one head: row lse | 800×800 tile | one row | top 8 of every row |")
    print("|---|---|---|---|---|---|---|---|---|")
    for measured in rows:
        forward, capture = measured["forward"], measured["capture"]
        print(
            f"| {capture['n']:,} | {forward['seconds']:.1f} s | {capture['seconds']:.1f} s | "
            f"{capture['qk_bytes'] / 1e6:.0f} MB | {forward['peak_above_model_bytes'] / 1e9:.2f} / "
            f"{capture['peak_above_model_bytes'] / 1e9:.2f} GB | {capture['lse']:.2f} s | {capture['tile']:.2f} s | "
            f"{capture['row'] * 1e3:.1f} ms | {capture['top8']:.2f} s |"
        )


if __name__ == "__main__":
    main()
