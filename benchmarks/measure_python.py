"""Kernel-side timings: the bare forward pass, the widget, BertViz, a re-run from the page.

Every widget is created while a :class:`common.RecordingComm` is installed, so its
state is JSON-encoded and signed as a kernel would send it, and "ready" means the
messages for the page have been built.
"""

from __future__ import annotations

import cProfile
import gc
import itertools
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from attnwidget import AttentionWidget, LoadedModel
from common import Stats, close_widget, time_calls


@dataclass
class PythonTimings:
    """Seconds, at one input length."""

    tokens: int
    forward: Stats  # model(**inputs, output_attentions=True), nothing else
    widget_init: Stats  # AttentionWidget(sentence, model=...) to the state ready to send
    widget_set: Stats  # w.sentence = another sentence of the same length, to the state ready
    bertviz: Stats | None = None  # head_view(attention, tokens, html_action="return")
    bertviz_html_bytes: int | None = None


@dataclass
class RerunTimings:
    """A re-run asked by the page, handled as in a kernel, against the bare forward pass."""

    tokens: int
    handle_run: Stats  # w._page.on_message(w, {"type": "run", "sentence": ...}, [])
    forward: Stats


@dataclass
class Breakdown:
    """Where one widget construction spends its time (cumulative seconds per step, from cProfile)."""

    label: str
    total: float
    steps: dict[str, float] = field(default_factory=dict)


def forward_once(loaded: LoadedModel, text: str) -> tuple[Any, list[str]]:
    """The bare forward pass with attentions; returns the outputs and the raw tokens."""
    inputs = loaded.tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        output = loaded.model(**inputs, output_attentions=True)
    return output, loaded.tokenizer.convert_ids_to_tokens(inputs["input_ids"][0].tolist())


def forward_call(loaded: LoadedModel, text: str) -> Callable[[], None]:
    """The bare forward pass on ``text``, tokenised once beforehand."""
    inputs = loaded.tokenizer(text, return_tensors="pt")

    def forward() -> None:
        with torch.no_grad():
            loaded.model(**inputs, output_attentions=True)

    return forward


def timed(action: Callable[[], Any]) -> float:
    """Seconds one call takes, after a garbage collection."""
    gc.collect()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def time_bertviz(loaded: LoadedModel, text: str, repeat: int) -> tuple[Stats, int]:
    """BertViz's head view of the same forward pass, as a returned HTML object."""
    from bertviz import head_view

    output, tokens = forward_once(loaded, text)
    sizes: list[int] = []

    def run() -> None:
        html = head_view(output.attentions, tokens, html_action="return")  # noqa: F821 - called before `del output`
        sizes.append(len(html.data.encode("utf-8")))
        del html

    stats = time_calls(run, repeat, warmup=0)
    del output
    gc.collect()
    return stats, sizes[-1]


def measure_size(
    loaded: LoadedModel, model: Any, texts: tuple[str, str], tokens: int, repeat: int, bertviz_repeat: int
) -> PythonTimings:
    """Forward pass, widget construction and re-run by setting ``sentence``, interleaved.

    The three are timed in turn within each repetition, so that other load on the
    machine affects them alike and their ratios stay meaningful.
    """
    forward = forward_call(loaded, texts[0])
    setter = AttentionWidget(texts[0], model=model)
    others = itertools.cycle((texts[1], texts[0]))  # always a different sentence: a real re-run
    created: list[AttentionWidget] = []

    def construct() -> None:
        created.append(AttentionWidget(texts[0], model=model))

    def set_sentence() -> None:
        setter.sentence = next(others)

    samples: dict[str, list[float]] = {"forward": [], "init": [], "set": []}
    try:
        for index in range(repeat + 1):  # the first round warms up and is not kept
            times = {"forward": timed(forward), "init": timed(construct), "set": timed(set_sentence)}
            close_widget(created.pop())
            if index > 0:
                for key, value in times.items():
                    samples[key].append(value)
    finally:
        close_widget(setter)
    timings = PythonTimings(
        tokens=tokens,
        forward=Stats.of(samples["forward"]),
        widget_init=Stats.of(samples["init"]),
        widget_set=Stats.of(samples["set"]),
    )
    if bertviz_repeat > 0:
        timings.bertviz, timings.bertviz_html_bytes = time_bertviz(loaded, texts[0], bertviz_repeat)
    return timings


def measure_rerun(loaded: LoadedModel, model: Any, texts: tuple[str, str], tokens: int, repeat: int) -> RerunTimings:
    """Time the handling of ``{"type": "run", sentence}`` from the page against the forward pass, interleaved."""
    forward = forward_call(loaded, texts[0])
    widget = AttentionWidget(texts[0], model=model)
    others = itertools.cycle((texts[1], texts[0]))

    def run() -> None:
        widget._page.on_message(widget, {"type": "run", "request": widget._request + 1, "sentence": next(others)}, [])
        if widget.error:
            raise RuntimeError(widget.error)

    handled, forwards = [], []
    try:
        for index in range(repeat + 1):
            times = (timed(forward), timed(run))
            if index > 0:
                forwards.append(times[0])
                handled.append(times[1])
    finally:
        close_widget(widget)
    return RerunTimings(tokens=tokens, handle_run=Stats.of(handled), forward=Stats.of(forwards))


# Steps of a widget construction, as (label, qualified function name) found in a cProfile.
_STEPS = (
    ("tokenize", "PreTrainedTokenizerBase.__call__"),
    ("forward pass (incl. hidden states)", "Module._wrapped_call_impl"),
    ("stack_layers (to numpy)", "stack_layers"),
    ("is_causal", "is_causal"),
    ("row_scales", "row_scales"),
    ("quantize_rows", "quantize_rows"),
    ("display_tokens", "display_tokens"),
    ("ipywidgets get_state", "Widget.get_state"),
    ("kernel message serialisation", "Session.serialize"),
)


def profile_widget(label: str, model: Any, text: str) -> Breakdown:
    """cProfile one construction and report the cumulative time of each known step."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    widget = AttentionWidget(text, model=model)
    profiler.disable()
    total = time.perf_counter() - start
    close_widget(widget)
    stats = pstats.Stats(profiler)
    found: dict[str, float] = {}
    for (filename, _line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for step, qualified in _STEPS:
            name = qualified.rsplit(".", 1)[-1]
            owner = qualified.rsplit(".", 1)[0] if "." in qualified else None
            if function != name:
                continue
            if owner is not None and not _owner_matches(filename, owner):
                continue
            # cProfile's cumulative time counts a recursive function (Module.__call__) once.
            found[step] = found.get(step, 0.0) + cumulative
    steps = {step: found[step] for step, _ in _STEPS if step in found}
    steps["other"] = max(total - sum(steps.values()), 0.0)
    return Breakdown(label=label, total=total, steps=steps)


def _owner_matches(filename: str, owner: str) -> bool:
    files = {
        "PreTrainedTokenizerBase": "tokenization_utils_base",
        "Module": "torch/nn/modules/module",
        "Widget": "ipywidgets/widgets/widget",
        "Session": "jupyter_client/session",
    }
    return files.get(owner, "") in filename


# ---- analysis (issue #10) -------------------------------------------------------------------

ANALYSIS_TARGET_SECONDS = 1.0
"""rollout and head statistics for 6 layers × 12 heads at 512 tokens, each under a second."""


@dataclass
class AnalysisTimings:
    """Seconds for the analysis functions on one real attention stack."""

    tokens: int
    layers: int
    heads: int
    steps: dict[str, Stats] = field(default_factory=dict)


def measure_analysis(model: Any, text: str, repeat: int) -> AnalysisTimings:
    """rollout, rollout_by_head, head_stats, word_attention and head_change on the model's own attention."""
    from attnwidget import extract, head_change, head_stats, rollout, word_attention
    from attnwidget.analysis import rollout_by_head

    stack = extract(model, text).main
    attention = stack.attention
    steps: dict[str, Callable[[], Any]] = {
        "rollout (mean fusion)": lambda: rollout(attention),
        "head_stats": lambda: head_stats(stack),
        "rollout_by_head (the widget's combine=rollout)": lambda: rollout_by_head(attention),
        "word_attention": lambda: word_attention(stack),
        "head_change (against itself)": lambda: head_change(attention, attention),
    }
    layers, heads, tokens, _ = attention.shape
    return AnalysisTimings(tokens, layers, heads, {name: time_calls(step, repeat) for name, step in steps.items()})


def analysis_table(timings: AnalysisTimings) -> str:
    """A markdown table of the timings, with the issue's target on the first two."""
    lines = [
        f"Analysis functions on the offline model's attention ({timings.layers} layers × {timings.heads} heads, "
        f"{timings.tokens} tokens):",
        "",
        "| function | median | p95 | target |",
        "|---|---|---|---|",
    ]
    for name, stats in timings.steps.items():
        target = "< 1 s" if name in ("rollout (mean fusion)", "head_stats") else ""
        met = "" if not target else (" (met)" if stats.p95 < ANALYSIS_TARGET_SECONDS else " (**not met**)")
        lines.append(f"| `{name}` | {stats.median * 1000:.0f} ms | {stats.p95 * 1000:.0f} ms | {target}{met} |")
    return "\n".join(lines)


if __name__ == "__main__":  # python benchmarks/measure_python.py: just the analysis table
    from attnwidget import load_model
    from common import text_with_tokens

    offline = load_model("offline")
    print(analysis_table(measure_analysis("offline", text_with_tokens(offline.tokenizer, 512), repeat=5)))
