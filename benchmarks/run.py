"""Benchmark attnwidget against the bare forward pass and BertViz, in one run.

    python benchmarks/run.py            # full run (about 5 minutes on 2 cores)
    python benchmarks/run.py --quick    # fewer sizes and repetitions (about 3 minutes)

Writes benchmarks/results/results.md, results.json and benchmark.png. See
benchmarks/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import common  # noqa: F401 - sets the offline environment and the import path first
from common import (
    BENCH_DIR,
    QUICK_SIZES,
    REPO_DIR,
    SIZES,
    STATIC_DIR,
    RecordingComm,
    close_widget,
    model_dir,
    save_random_bert,
    save_random_gpt2,
    text_with_tokens,
)
from measure_browser import BrowserCase, measure_browser
from measure_bytes import measure_bytes
from measure_memory import measure_memory
from measure_python import (
    measure_analysis,
    measure_rerun,
    measure_size,
    profile_widget,
)
from profile_js import profile_js
from report import write_report
from results import DecoderResult, Results

if TYPE_CHECKING:
    from attnwidget import LoadedModel

RERUN_TOKENS = 32
DECODER_TOKENS = 2048
BIG_TOKENS = 512
MIN_BUNDLE_BYTES = 1024


@dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...]
    repeat: int  # Python timings per size
    bertviz_repeat: int  # BertViz runs per size up to 128 tokens (one above: it takes seconds)
    browser_reps: int  # hovers and layer changes per case
    remounts: int  # warm first paints per case
    reruns_in_browser: int  # re-run updates applied in the page
    memory_widgets: int
    memory_reruns: int
    skip: frozenset[str]
    bundle_dir: Path
    out_dir: Path
    keep_fixtures: Path | None
    quick: bool
    threads: int  # torch threads in the benchmark processes; 0 for torch's default

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Config:
        quick = args.quick
        return cls(
            sizes=tuple(args.sizes) if args.sizes else (QUICK_SIZES if quick else SIZES),
            repeat=3 if quick else 7,
            bertviz_repeat=1 if quick else 3,
            browser_reps=args.reps or (15 if quick else 50),
            remounts=2 if quick else 4,
            reruns_in_browser=5 if quick else 10,
            memory_widgets=3 if quick else 5,
            memory_reruns=20 if quick else 100,
            skip=frozenset(args.skip),
            bundle_dir=Path(args.bundle).resolve(),
            out_dir=Path(args.out).resolve(),
            keep_fixtures=Path(args.keep_fixtures).resolve() if args.keep_fixtures else None,
            quick=quick,
            threads=args.threads,
        )


class Runner:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.results = Results()
        self.started = time.perf_counter()

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        """Run one part; a failure is recorded and the run goes on."""
        print(f"[{time.perf_counter() - self.started:6.1f}s] {name}", flush=True)
        try:
            yield
        except Exception as error:  # noqa: BLE001 - report every part that could be measured
            traceback.print_exc()
            self.results.errors[name] = f"{type(error).__name__}: {error}"[:2000]

    def skipped(self, part: str) -> bool:
        return part in self.config.skip

    def run(self) -> Results:
        from attnwidget import load_model

        config, results = self.config, self.results
        set_threads(config.threads)
        results.meta = machine_info(config)
        bundle_ok = bundle_ready(config.bundle_dir)
        with tempfile.TemporaryDirectory(prefix="attnwidget-bench-") as tmp, RecordingComm() as recorder:
            fixtures = config.keep_fixtures or Path(tmp) / "fixtures"
            if fixtures.exists():
                shutil.rmtree(fixtures)
            cases: list[BrowserCase] = []
            loaded = load_model("offline")

            for tokens in config.sizes:
                texts = (text_with_tokens(loaded.tokenizer, tokens), text_with_tokens(loaded.tokenizer, tokens, offset=61))
                with self.section(f"python {tokens} tokens"):
                    bertviz = 0 if self.skipped("bertviz") else (config.bertviz_repeat if tokens <= 128 else 1)
                    results.python.append(measure_size(loaded, "offline", texts, tokens, config.repeat, bertviz))
                with self.section(f"bytes {tokens} tokens"):
                    results.bytes.append(measure_bytes(recorder, "offline", texts[0], f"offline {tokens}"))
                with self.section(f"fixture {tokens} tokens"):
                    cases.append(self.fixture(fixtures, f"offline-{tokens}", f"offline {tokens}", "offline", texts[0]))

            with self.section(f"re-run from the page, {RERUN_TOKENS} tokens"):
                texts = tuple(text_with_tokens(loaded.tokenizer, RERUN_TOKENS, offset=k * 17) for k in range(2))
                results.rerun = measure_rerun(loaded, "offline", texts, RERUN_TOKENS, config.repeat * 2)
                cases.append(self.rerun_fixture(fixtures, loaded))

            with self.section(f"analysis functions, {max(config.sizes)} tokens"):
                text = text_with_tokens(loaded.tokenizer, max(config.sizes))
                results.analysis = measure_analysis("offline", text, config.repeat)

            with self.section("profile: widget construction, offline 512"):
                text = text_with_tokens(loaded.tokenizer, max(config.sizes))
                results.breakdowns.append(profile_widget(f"offline {max(config.sizes)} tokens", "offline", text))

            if not self.skipped("big"):
                with self.section(f"12 layers x 12 heads, {BIG_TOKENS} tokens"), model_dir("bert12") as directory:
                    save_random_bert(directory)
                    text = text_with_tokens(loaded.tokenizer, BIG_TOKENS)
                    results.big = measure_bytes(recorder, str(directory), text, f"BERT 12x12 {BIG_TOKENS}")

            if not self.skipped("decoder"):
                with self.section(f"decoder, {DECODER_TOKENS} tokens"), model_dir("gpt2") as directory:
                    save_random_gpt2(directory, positions=DECODER_TOKENS)
                    model = str(directory)
                    decoder = load_model(model)
                    texts = tuple(text_with_tokens(decoder.tokenizer, DECODER_TOKENS, offset=k * 61) for k in range(2))
                    timings = measure_size(decoder, model, texts, DECODER_TOKENS, max(2, config.repeat // 2), 0)
                    size = measure_bytes(recorder, model, texts[0], f"GPT-2 4x8 {DECODER_TOKENS}")
                    results.decoder = DecoderResult(timings=timings, bytes=size)
                    results.breakdowns.append(profile_widget(f"GPT-2 4x8 {DECODER_TOKENS} tokens", model, texts[0]))
                    cases.append(self.fixture(fixtures, "gpt2-2048", f"GPT-2 4x8 {DECODER_TOKENS}", model, texts[0]))

            if not self.skipped("memory"):
                with self.section("memory (fresh process)"):
                    results.memory = measure_memory(512, config.memory_widgets, config.memory_reruns, threads=config.threads)

            if self.skipped("browser"):
                pass
            elif not bundle_ok:
                results.errors["browser"] = (
                    f"no real bundle in {config.bundle_dir} (widget.js under {MIN_BUNDLE_BYTES} bytes): run npm run build"
                )
            else:
                with self.section("browser"):
                    results.browser = measure_browser(cases, fixtures, config.bundle_dir, config.browser_reps, config.remounts)
                if not self.skipped("js-profile"):
                    with self.section("profile: JavaScript"):
                        slowest = [case for case in cases if case.tokens >= 512 or case.reruns]
                        results.js_profiles = profile_js(slowest, fixtures, config.browser_reps // 2 or 5)
        results.meta["seconds"] = round(time.perf_counter() - self.started, 1)
        results.meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        return results

    def fixture(self, root: Path, name: str, label: str, model: str, text: str) -> BrowserCase:
        from attnwidget import AttentionWidget
        from harness.fixture import dump_widget

        widget = AttentionWidget(text, model=model)
        try:
            dump_widget(widget, root / name)
            return BrowserCase(label=label, fixture=name, tokens=len(widget.tokens))
        finally:
            close_widget(widget)

    def rerun_fixture(self, root: Path, loaded: LoadedModel) -> BrowserCase:
        """A 32-token widget and re-runs of other 32-token inputs, as the page would ask for them."""
        from attnwidget import AttentionWidget
        from harness.fixture import FixtureWriter

        tokenizer = loaded.tokenizer
        widget = AttentionWidget(text_with_tokens(tokenizer, RERUN_TOKENS), model="offline")
        name = f"rerun-{RERUN_TOKENS}"
        writer = FixtureWriter(root / name, name)
        try:
            writer.add_state(widget)
            writer.add_layer_answers(widget)
            updates = []
            for index in range(self.config.reruns_in_browser):
                update = f"rerun-{index}"
                writer.add_rerun(widget, update, text_with_tokens(tokenizer, RERUN_TOKENS, offset=5 + 13 * index))
                updates.append(update)
            writer.write()
        finally:
            close_widget(widget)
        return BrowserCase(label=f"re-run {RERUN_TOKENS}", fixture=name, tokens=RERUN_TOKENS, reruns=updates)


def set_threads(threads: int) -> None:
    import torch

    if threads > 0:
        torch.set_num_threads(threads)


def bundle_ready(directory: Path) -> bool:
    script = directory / "widget.js"
    return script.is_file() and script.stat().st_size > MIN_BUNDLE_BYTES


def machine_info(config: Config) -> dict:
    import psutil
    import torch
    import transformers

    def version(package: str) -> str:
        try:
            from importlib.metadata import version as get

            return get(package)
        except Exception:  # noqa: BLE001
            return "?"

    def git(*arguments: str) -> str:
        try:
            return subprocess.run(["git", *arguments], cwd=REPO_DIR, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "?"

    script = config.bundle_dir / "widget.js"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": config.quick,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "transformers": transformers.__version__,
        "bertviz": version("bertviz"),
        "anywidget": version("anywidget"),
        "ipywidgets": version("ipywidgets"),
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "bundle": str(config.bundle_dir),
        "bundle_bytes": script.stat().st_size if script.is_file() else 0,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "sizes": list(config.sizes),
        "repeat": config.repeat,
        "browser_reps": config.browser_reps,
        "threads": config.threads,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="sizes 16/128/512 and fewer repetitions")
    parser.add_argument("--sizes", type=int, nargs="+", help="input lengths in tokens (offline model, at most 512)")
    parser.add_argument("--reps", type=int, help="hovers and layer changes per browser case")
    parser.add_argument(
        "--skip",
        nargs="+",
        default=[],
        choices=["bertviz", "big", "decoder", "memory", "browser", "js-profile"],
        help="parts to leave out",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: steady timings on a shared machine; 0 for torch's default, all cores)",
    )
    parser.add_argument("--bundle", default=str(STATIC_DIR), help="directory with widget.js and widget.css")
    parser.add_argument("--out", default=str(BENCH_DIR / "results"), help="where results.md/json/png go")
    parser.add_argument("--keep-fixtures", help="write the harness fixtures here and keep them")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    config = Config.from_args(parse_args(argv))
    if any(size > 512 for size in config.sizes):
        sys.exit("the offline model accepts at most 512 tokens")
    results = Runner(config).run()
    paths = write_report(results, config.out_dir)
    for path in paths:
        print(f"wrote {path}")
    if results.errors:
        print("parts that failed:", ", ".join(results.errors), file=sys.stderr)
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
