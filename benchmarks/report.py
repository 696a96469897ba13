"""results.json, results.md (tables with targets) and benchmark.png from a run's Results."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from results import Results

MB = 1e6  # sizes are reported in decimal megabytes

# The targets from the issue.
FIRST_PAINT_12X12_MAX = 8 * MB
BERTVIZ_RATIO_MIN = 40  # attnwidget's total bytes at most 1/40 of BertViz's HTML
STANDALONE_RATIO_MIN = 30  # save_html()'s file at most 1/30 of BertViz's HTML, from 128 tokens
STANDALONE_FROM_TOKENS = 128
RSS_PER_WIDGET_MAX_RATIO = 1.2
RERUN_GROWTH_MAX = 50 * MB
LATENCY_P95_MAX_MS = 100
PAGE_HEAP_MAX = 300 * MB


# ---- JSON -------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Dataclasses to dicts, with their properties (first_paint, total, ratio, ...) included."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name, member in vars(type(value)).items():
            if isinstance(member, property):
                out[name] = jsonable(getattr(value, name))
        return out
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


# ---- formatting -------------------------------------------------------------------------


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def size(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= MB:
        return f"{value / MB:.2f} MB"
    return f"{value / 1e3:.1f} kB"


def signed_size(value: float) -> str:
    return f"{value / MB:+.1f} MB"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("**met**" if ok else "**not met**")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def first(items: list, predicate: Callable[[Any], bool]) -> Any:
    return next((item for item in items if predicate(item)), None)


# ---- markdown ---------------------------------------------------------------------------


def page_heap(result: Any) -> float | None:
    heaps = [heap.page for heap in (result.heap_ready, result.heap_after) if heap is not None]
    return max(heaps) if heaps else None


def targets_section(results: Results) -> str:
    rows: list[list[str]] = []
    if results.big is not None:
        value = results.big.first_paint
        rows.append(
            [
                "First-paint bytes, BERT 12 layers × 12 heads, 512 tokens",
                size(value),
                "≤ 8 MB",
                verdict(value <= FIRST_PAINT_12X12_MAX),
                f"{value / FIRST_PAINT_12X12_MAX:.0%} of the budget",
            ]
        )
    bertviz = {timing.tokens: timing.bertviz_html_bytes for timing in results.python if timing.bertviz_html_bytes}
    for item in results.bytes:
        html = bertviz.get(item.tokens)
        if html:
            ratio = html / item.total
            rows.append(
                [
                    f"Total bytes vs BertViz HTML, {item.tokens} tokens",
                    f"1/{ratio:.0f} ({size(item.total)} vs {size(html)})",
                    "≤ 1/40",
                    verdict(ratio >= BERTVIZ_RATIO_MIN),
                    f"{ratio / BERTVIZ_RATIO_MIN:.1f}× the required margin",
                ]
            )
        if html and item.standalone_bytes and item.tokens >= STANDALONE_FROM_TOKENS:
            ratio = html / item.standalone_bytes
            rows.append(
                [
                    f"save_html file vs BertViz HTML, {item.tokens} tokens",
                    f"1/{ratio:.0f} ({size(item.standalone_bytes)} vs {size(html)})",
                    "≤ 1/30",
                    verdict(ratio >= STANDALONE_RATIO_MIN),
                    f"{ratio / STANDALONE_RATIO_MIN:.1f}× the required margin",
                ]
            )
    memory = results.memory
    if memory is not None:
        rows.append(
            [
                "Kernel RSS per widget (512 tokens) / float32 attention",
                f"{memory.ratio:.2f}× ({size(memory.rss_per_widget)})",
                "≤ 1.2×",
                verdict(memory.ratio <= RSS_PER_WIDGET_MAX_RATIO),
                f"float32 = {size(memory.float32_per_widget)}",
            ]
        )
        rows.append(
            [
                f"RSS growth over {memory.reruns} re-runs (512 tokens)",
                signed_size(memory.rerun_growth),
                "< 50 MB",
                verdict(memory.rerun_growth < RERUN_GROWTH_MAX),
                f"median of the last 10 minus the first 10; live memory (after malloc_trim) {signed_size(memory.rerun_live_growth)}",
            ]
        )
    decoder = first(results.browser, lambda result: result.tokens >= 2048)
    if decoder is not None:
        if decoder.error:
            rows.append(["2,048-token decoder in the browser", f"failed: {decoder.error[:120]}", "", verdict(False), ""])
        else:
            for name, latency in (("Hover", decoder.hover), ("Layer change", decoder.layer_change)):
                if latency is not None:
                    p95 = latency.frame.p95
                    rows.append(
                        [
                            f"{name} p95, 2,048-token decoder",
                            ms(p95),
                            "≤ 100 ms",
                            verdict(p95 <= LATENCY_P95_MAX_MS),
                            f"work p95 {ms(latency.work.p95)}",
                        ]
                    )
            heap = page_heap(decoder)
            if heap is not None:
                rows.append(
                    [
                        "Page JS heap, 2,048-token decoder",
                        size(heap),
                        "< 300 MB",
                        verdict(heap < PAGE_HEAP_MAX),
                        f"V8 heap + ArrayBuffers after GC; usedJSHeapSize {size(decoder.heap_after.used_js_heap if decoder.heap_after else None)}",
                    ]
                )
    if not rows:
        return ""
    return "## Targets\n\n" + table(["Target", "Measured", "Target", "Met", "Note"], rows)


def python_section(results: Results) -> str:
    rows = []
    for timing in results.python:
        overhead = timing.widget_init.median / timing.forward.median
        rows.append(
            [
                str(timing.tokens),
                seconds(timing.forward.median),
                f"{seconds(timing.widget_init.median)} (p95 {seconds(timing.widget_init.p95)})",
                f"{overhead:.1f}×",
                seconds(timing.widget_set.median),
                seconds(timing.bertviz.median) if timing.bertviz else "—",
            ]
        )
    text = "## Kernel side (Python), offline model\n\nMedians of repeated runs; the model is loaded once before.\n\n"
    text += table(
        ["tokens", "bare forward", "AttentionWidget(...) ready", "÷ forward", "w.sentence = ... ready", "BertViz head_view"], rows
    )
    if results.rerun is not None:
        rerun = results.rerun
        text += "\n\n### Re-run asked by the page\n\n" + table(
            ["tokens", "handle {type: run} to new state ready", "bare forward", "overhead"],
            [
                [
                    str(rerun.tokens),
                    f"{seconds(rerun.handle_run.median)} (p95 {seconds(rerun.handle_run.p95)})",
                    seconds(rerun.forward.median),
                    seconds(rerun.handle_run.median - rerun.forward.median),
                ]
            ],
        )
        repaint = first(results.browser, lambda result: result.repaint is not None)
        if repaint is not None:
            text += (
                f"\n\nBrowser repaint with the new `_data` ({repaint.label}): median {ms(repaint.repaint.frame.median)}, "
                f"p95 {ms(repaint.repaint.frame.p95)} (work {ms(repaint.repaint.work.median)})."
            )
    return text


def bytes_section(results: Results) -> str:
    bertviz = {timing.tokens: timing.bertviz_html_bytes for timing in results.python}
    rows = []
    items = list(results.bytes) + [item for item in (results.big, results.decoder.bytes if results.decoder else None) if item]
    for item in items:
        html = bertviz.get(item.tokens) if item.label.startswith("offline") else None
        rows.append(
            [
                item.label,
                f"{item.n_layers}×{item.n_heads}",
                f"{item.eager_layers}/{item.n_layers}",
                size(item.first_paint),
                str(item.layer_messages),
                size(item.total),
                size(html),
                f"1/{html / item.total:.0f}" if html else "—",
                size(item.standalone_bytes),
                f"1/{html / item.standalone_bytes:.0f}" if html and item.standalone_bytes else "—",
                size(item.wire_construction),
                size(item.float32_bytes),
            ]
        )
    text = (
        "## Bytes to the page\n\nFirst paint = `_data` at construction (binary buffers + JSON); total = first paint + every "
        "layer message the page then asks for. Wire = all kernel messages of the constructor as a kernel serialises them, "
        "including anywidget's `_esm`/`_css` (the 1 kB loader; the shared front end goes once per kernel, see lab.md). "
        "save_html file = the self-contained offline file (bundle, CSS and every layer, gzip + base64), BertViz HTML's "
        "offline counterpart.\n\n"
    )
    return text + table(
        [
            "input",
            "layers×heads",
            "layers in _data",
            "first paint",
            "layer msgs",
            "total",
            "BertViz HTML",
            "total/BertViz",
            "save_html file",
            "file/BertViz",
            "wire at construction",
            "float32 attention",
        ],
        rows,
    )


def browser_section(results: Results) -> str:
    if not results.browser:
        return ""
    rows = []
    for result in results.browser:
        if result.error:
            rows.append([result.label, f"failed: {result.error[:200]}"] + [""] * 6)
            continue
        rows.append(
            [
                result.label,
                f"{ms(result.first_paint.frame.median)} (work {ms(result.first_paint.work.median)})"
                if result.first_paint
                else "—",
                ms(result.first_paint_warm.frame.median) if result.first_paint_warm else "—",
                f"{ms(result.complete_ms)} ({result.layer_requests} req.)",
                f"{ms(result.hover.frame.median)} / {ms(result.hover.frame.p95)} (work {ms(result.hover.work.p95)})"
                if result.hover
                else "—",
                f"{ms(result.layer_change.frame.median)} / {ms(result.layer_change.frame.p95)} (work {ms(result.layer_change.work.p95)})"
                if result.layer_change
                else "—",
                size(page_heap(result)),
                str(result.token_elements),
            ]
        )
    text = (
        "## Browser (headless Chromium, harness page, real bundle)\n\n"
        "Times are `performance.now()` before the action to two `requestAnimationFrame`s later (frame-paced: ≥ 16.7 ms); "
        "*work* is the same without waiting for frames (handlers + the drawing frame's script, style, layout, paint). "
        "First paint: render() in a fresh page (cold), then the median of re-mounts (warm). Complete: until every "
        "layer the page asks for is answered and drawn. Heap: V8 heap + ArrayBuffers after a forced GC, minus data the "
        "fake kernel still holds.\n\n"
    )
    text += table(
        [
            "case",
            "first paint (cold)",
            "first paint (warm)",
            "complete",
            "hover median / p95",
            "layer change median / p95",
            "page heap",
            "token elements",
        ],
        rows,
    )
    slow = [
        f"{result.label} {name} p95 {ms(latency.frame.p95)} (work p95 {ms(latency.work.p95)})"
        for result in results.browser
        if not result.error and result.tokens < 2048
        for name, latency in (("hover", result.hover), ("layer change", result.layer_change))
        if latency is not None and latency.frame.p95 > LATENCY_P95_MAX_MS
    ]
    if slow:
        text += "\n\nOver the 2,048-token bar of 100 ms at a smaller size: " + "; ".join(slow) + "."
    errors = [f"- {result.label}: {error}" for result in results.browser for error in result.console_errors]
    if errors:
        text += "\n\nConsole errors:\n" + "\n".join(errors[:20])
    return text


def memory_section(results: Results) -> str:
    memory = results.memory
    if memory is None:
        return ""
    expected = (memory.widgets - 1) * memory.rss_per_widget
    rows = [
        [f"RSS per widget (N = {memory.widgets}, 512 tokens)", size(memory.rss_per_widget)],
        ["float32 attention per widget", size(memory.float32_per_widget)],
        [
            f"RSS given back by closing {memory.widgets - 1} widgets and dropping them",
            f"{size(memory.freed_on_close)} of {size(expected)} expected",
        ],
        [
            f"RSS, median of the first → last 10 of {memory.reruns} re-runs",
            f"{size(memory.rss_rerun_start)} → {size(memory.rss_rerun_end)}",
        ],
        [
            "live memory (after malloc_trim) before → after the re-runs",
            f"{size(memory.rss_rerun_start_trimmed)} → {size(memory.rss_rerun_end_trimmed)}",
        ],
        [
            "RSS range over the re-runs",
            f"{min(memory.rss_rerun_samples) / MB:.0f}–{max(memory.rss_rerun_samples) / MB:.0f} MB"
            if memory.rss_rerun_samples
            else "—",
        ],
    ]
    return "## Kernel memory (fresh process)\n\n" + table(["measure", "value"], rows)


def decoder_section(results: Results) -> str:
    decoder = results.decoder
    if decoder is None:
        return ""
    timing, item = decoder.timings, decoder.bytes
    rows = [
        ["bare forward", seconds(timing.forward.median)],
        ["AttentionWidget(...) ready", f"{seconds(timing.widget_init.median)} (p95 {seconds(timing.widget_init.p95)})"],
        ["w.sentence = ... ready", seconds(timing.widget_set.median)],
        ["first paint bytes", size(item.first_paint)],
        ["total bytes", size(item.total)],
        ["float32 attention", size(item.float32_bytes)],
    ]
    browser = first(results.browser, lambda result: result.tokens >= 2048)
    if browser is not None and not browser.error and browser.first_paint:
        rows += [
            [
                "browser first paint (cold / warm)",
                f"{ms(browser.first_paint.frame.median)} / "
                f"{ms(browser.first_paint_warm.frame.median if browser.first_paint_warm else None)}",
            ],
            ["browser complete (all layers)", ms(browser.complete_ms)],
            ["hover p95 (work p95)", f"{ms(browser.hover.frame.p95)} ({ms(browser.hover.work.p95)})" if browser.hover else "—"],
            [
                "layer change p95 (work p95)",
                f"{ms(browser.layer_change.frame.p95)} ({ms(browser.layer_change.work.p95)})" if browser.layer_change else "—",
            ],
            ["page heap", size(page_heap(browser))],
        ]
    return (
        "## 2,048 tokens on a small decoder\n\nRandomly initialised GPT-2, 4 layers × 8 heads, hidden 256, "
        "n_positions 2048, byte-level BPE trained on the benchmark's text.\n\n" + table(["measure", "value"], rows)
    )


def breakdown_section(results: Results) -> str:
    parts = []
    for breakdown in results.breakdowns:
        rows = [[step, seconds(value), f"{value / breakdown.total:.0%}"] for step, value in breakdown.steps.items()]
        parts.append(
            f"### Widget construction, {breakdown.label}: {seconds(breakdown.total)} under cProfile\n\n"
            + table(["step", "time", "share"], rows)
        )
    for profile in results.js_profiles:
        files = list(profile.by_file.items())[:8]
        rows = [[where, ms(value), f"{value / profile.total_ms:.0%}" if profile.total_ms else "—"] for where, value in files]
        functions = ", ".join(
            f"`{name}` ({where.rsplit('/', 1)[-1]}) {value:.0f} ms" for name, where, value in profile.top_functions[:5]
        )
        trace = ", ".join(f"{name} {value:.0f} ms" for name, value in list(profile.trace_self_ms.items())[:6])
        parts.append(
            f"### Page, {profile.label}: {ms(profile.total_ms)} of CPU samples\n\n"
            + table(["source", "self time", "share"], rows)
            + f"\n\nTop functions: {functions}"
            + (f"\n\nRenderer main thread, self time by trace event (a separate run): {trace}" if trace else "")
        )
    if not parts:
        return ""
    intro = (
        "Python: cProfile of one widget construction (cumulative time of each step; profiling slows it down). "
        "Page: the CPU profiler on an unminified build of the same sources, self time by source file; `(program)` is "
        "native work outside JavaScript (style, layout, paint, compositing), broken down by the trace events below each table "
        "(`SkCanvas::drawPath` is the rasterisation of canvas paths, which Chromium defers to the frame's commit, so it "
        "does not show in the JavaScript profile; it runs in software here, as the browser runs with `--disable-gpu`)."
    )
    return "## Where the time goes\n\n" + intro + "\n\n" + "\n\n".join(parts)


def meta_section(results: Results) -> str:
    meta = results.meta
    lines = [
        f"- Date: {meta.get('date')}, {'quick' if meta.get('quick') else 'full'} run, {meta.get('seconds')} s in all",
        f"- Machine: {meta.get('cpus')} CPUs, {meta.get('ram_gb')} GB RAM, {meta.get('platform')}; load average "
        f"{meta.get('loadavg_start')} at the start, {meta.get('loadavg_end')} at the end (other work on the machine skews timings)",
        f"- Python {meta.get('python')}, torch {meta.get('torch')} ({meta.get('torch_threads')} threads), transformers "
        f"{meta.get('transformers')}, bertviz {meta.get('bertviz')}, anywidget {meta.get('anywidget')}, ipywidgets {meta.get('ipywidgets')}",
        f"- attnwidget commit {meta.get('commit')}{' with uncommitted changes' if meta.get('dirty') else ''}; bundle "
        f"{meta.get('bundle')} ({size(meta.get('bundle_bytes'))})",
        f"- Python timings: {meta.get('repeat')} runs per size, torch threads {meta.get('threads') or 'default'}; browser: "
        f"{meta.get('browser_reps')} hovers and layer changes per case",
    ]
    return "\n".join(lines)


def analysis_section(results: Results) -> str:
    if results.analysis is None:
        return ""
    from measure_python import analysis_table

    return "## Analysis functions\n\n" + analysis_table(results.analysis)


def markdown(results: Results) -> str:
    sections = [
        "# attnwidget benchmark\n\nGenerated by `python benchmarks/run.py`; see `benchmarks/README.md` for the method.",
        meta_section(results),
        targets_section(results),
        python_section(results),
        bytes_section(results),
        browser_section(results),
        decoder_section(results),
        memory_section(results),
        breakdown_section(results),
        analysis_section(results),
    ]
    if results.errors:
        sections.append("## Parts that failed\n\n" + "\n".join(f"- {name}: `{error}`" for name, error in results.errors.items()))
    sections.append("![time and bytes against tokens](benchmark.png)")
    return "\n\n".join(section for section in sections if section) + "\n"


# ---- plot -------------------------------------------------------------------------------


def plot(results: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    timings = results.python
    tokens = [timing.tokens for timing in timings]
    if timings:
        left.plot(tokens, [t.forward.median for t in timings], "o-", label="bare forward pass")
        left.plot(tokens, [t.widget_init.median for t in timings], "s-", label="attnwidget: widget ready (Python)")
        with_bertviz = [t for t in timings if t.bertviz]
        if with_bertviz:
            left.plot(
                [t.tokens for t in with_bertviz],
                [t.bertviz.median for t in with_bertviz],
                "^-",
                label="BertViz head_view (Python)",
            )
    browser = [result for result in results.browser if result.first_paint and result.label.startswith("offline")]
    if browser:
        left.plot(
            [r.tokens for r in browser],
            [r.first_paint.frame.median / 1000 for r in browser],
            "d--",
            label="attnwidget: first paint (browser)",
        )
        left.plot(
            [r.tokens for r in browser if r.hover],
            [r.hover.frame.p95 / 1000 for r in browser if r.hover],
            "x:",
            label="attnwidget: hover p95 (browser)",
        )
    left.set(xscale="log", yscale="log", xlabel="tokens", ylabel="seconds", title="Time (offline model, 6 × 12)")
    _token_axis(left, tokens)
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)

    items = results.bytes
    if items:
        xs = [item.tokens for item in items]
        right.plot(xs, [item.first_paint for item in items], "o-", label="attnwidget: first paint")
        right.plot(xs, [item.total for item in items], "s-", label="attnwidget: total (all layers)")
        right.plot(xs, [item.float32_bytes for item in items], ":", color="grey", label="attention as float32")
        html = [(t.tokens, t.bertviz_html_bytes) for t in timings if t.bertviz_html_bytes]
        if html:
            right.plot([x for x, _ in html], [y for _, y in html], "^-", label="BertViz HTML")
    right.set(xscale="log", yscale="log", xlabel="tokens", ylabel="bytes", title="Bytes to the page")
    _token_axis(right, [item.tokens for item in items])
    right.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _token_axis(axes: Any, tokens: list[int]) -> None:
    """Label the log-scaled token axis with the measured sizes only."""
    from matplotlib.ticker import FixedLocator, NullLocator

    if tokens:
        axes.xaxis.set_major_locator(FixedLocator(tokens))
        axes.xaxis.set_minor_locator(NullLocator())
        axes.set_xticklabels([str(token) for token in tokens])


def write_report(results: Results, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "results.json", out_dir / "results.md", out_dir / "benchmark.png"]
    paths[0].write_text(json.dumps(jsonable(results), indent=1))
    paths[1].write_text(markdown(results))
    plot(results, paths[2])
    return paths
