"""The widget where users meet it: a real JupyterLab page and a live kernel, beside BertViz.

    python benchmarks/lab.py            # about 4-6 minutes on 2 cores; writes results/lab.md + lab.json
    python benchmarks/lab.py --reps 10  # fewer hovers and layer changes

JupyterLab is started as the browser tests start it (tests/helpers/labhost.py) and driven
by Chromium through Playwright. Every cell is inserted and executed by the page with
JupyterLab's own commands; earlier outputs stay in the notebook, so later widgets are
measured with the earlier ones alive, as in a notebook. Times are performance.now() in
the page, to the frame after the change is in the DOM (two requestAnimationFrames, see
harness/timing.js); what the kernel reports (time.time()) is aligned with the page through
performance.timeOrigin. BertViz runs in the same page and kernel, its three cdnjs scripts
answered from local copies (benchmarks/package.json: `npm ci --prefix benchmarks`); no
request leaves the machine. Bytes are the kernel's websocket frames as the page receives
them. A Chrome trace of each interaction gives script, style, layout, paint and Commit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from common import BENCH_DIR, Stats, labhost
from profile_js import TRACE_CATEGORIES, trace_self_times

SIZES = (16, 128, 512)
NOTEBOOK = "lab_benchmark.ipynb"
VENDOR = BENCH_DIR / "node_modules"
# BertViz's require.config and <script> URLs, and the local copy that answers each.
CDN_COPIES = {
    "require.js/2.3.6/require.min.js": VENDOR / "requirejs" / "require.js",
    "d3/5.7.0/d3.min.js": VENDOR / "d3" / "dist" / "d3.min.js",
    "jquery/2.0.0/jquery.min.js": VENDOR / "jquery" / "dist" / "jquery.min.js",
}
CDN = "https://cdnjs.cloudflare.com/ajax/libs/"
PAGE_SCRIPTS = {"timing.js": BENCH_DIR / "harness" / "timing.js", "lab_page.js": BENCH_DIR / "harness" / "lab_page.js"}
PARTS = ("paint", "interactions", "enter", "traces", "ready", "bertviz")
VIEWPORT = {"width": 1400, "height": 1000}
MARKERS = ("apple", "music", "doctor", "window", "garden", "summer")  # single tokens absent from the corpus

SETUP = """
import gc, json, statistics, sys, time
sys.path.insert(0, {bench!r})
import torch
torch.set_num_threads({threads})
from common import text_with_tokens
from attnwidget import AttentionWidget, load_model
from bertviz import head_view

_loaded = load_model("offline")
_tok, _model = _loaded.tokenizer, _loaded.model
_SIZES = {sizes!r}
_TEXTS = {{n: (text_with_tokens(_tok, n), text_with_tokens(_tok, n, offset=61)) for n in _SIZES}}
_MARKED = {{n: [m + " " + text_with_tokens(_tok, n - 1, offset=7 * k) for k, m in enumerate({markers!r})] for n in _SIZES}}
_marks = []  # (what, kernel start, kernel end) in epoch ms
_run_handling = []  # (start, end) epoch ms of each page "run" message handled by the kernel
_widgets = []

def _forward(text):
    encoded = _tok(text, return_tensors="pt")
    with torch.no_grad():
        return encoded, _model(**encoded, output_attentions=True)

def _time_forward(text, reps=5):
    times = []
    for _ in range(reps):
        start = time.perf_counter(); _forward(text); times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)

def _show(n, i):
    start = time.time() * 1000
    widget = AttentionWidget(_TEXTS[n][i % 2], model="offline")
    _marks.append(("attnwidget %d" % n, start, time.time() * 1000))
    _widgets.append(widget)
    return widget

def _bertviz(n, i):
    start = time.time() * 1000
    encoded, output = _forward(_TEXTS[n][i % 2])
    head_view(output.attentions, _tok.convert_ids_to_tokens(encoded["input_ids"][0]))
    _marks.append(("bertviz %d" % n, start, time.time() * 1000))

def _time_page_runs(widget):
    # Wraps the comm's message callback (not the widget's code): the kernel's whole handling of a run.
    inner = widget.comm._msg_callback
    def timed(msg):
        data = msg["content"]["data"]
        start = time.time() * 1000
        inner(msg)
        if data.get("method") == "custom" and data.get("content", {{}}).get("type") == "run":
            _run_handling.append((start, time.time() * 1000))
    widget.comm.on_msg(timed)

def _ready_ratio(reps, keep):
    forward, ready = [], []
    for i in range(reps):
        gc.collect()
        text = _TEXTS[512][i % 2]
        start = time.perf_counter(); _forward(text); forward.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter(); widget = AttentionWidget(text, model="offline"); ready.append((time.perf_counter() - start) * 1000)
        if keep: _widgets.append(widget)
        else: widget.close()
    return {{"forward": statistics.median(forward), "ready": statistics.median(ready), "ratios": [r / f for r, f in zip(ready, forward)]}}

_forward(_TEXTS[16][0])
print(json.dumps({{n: [len(_tok(t)["input_ids"]) for t in _MARKED[n]] for n in _SIZES}}))
"""


# ---- results ------------------------------------------------------------------------------


@dataclass
class LabResults:
    meta: dict = field(default_factory=dict)
    forward_ms: dict[int, float] = field(default_factory=dict)  # kernel, median
    painted: dict[str, list[float]] = field(default_factory=dict)  # "attnwidget 16" -> ms per cell
    kernel_ms: dict[str, list[float]] = field(default_factory=dict)  # the cell's work in the kernel
    after_kernel_ms: dict[str, list[float]] = field(default_factory=dict)  # kernel done -> painted
    enter: dict[int, list[float]] = field(default_factory=dict)
    enter_kernel: dict[int, list[float]] = field(default_factory=dict)  # kernel's handling of the run
    hover: dict[str, Stats] = field(default_factory=dict)
    layer: dict[str, Stats] = field(default_factory=dict)
    work: dict[str, Stats] = field(default_factory=dict)  # "hover 512": the same samples' CPU cost (timing.js `work`)
    floor: dict[str, Stats] = field(default_factory=dict)  # "128": actions that change nothing, timed the same way
    ready: dict[str, dict] = field(default_factory=dict)
    bytes: dict[str, list[int]] = field(default_factory=dict)  # kernel frames per cell
    traces: dict[str, dict[str, float]] = field(default_factory=dict)
    trace_top: dict[str, dict[str, float]] = field(default_factory=dict)  # busiest main-thread events, ms in total
    errors: dict[str, str] = field(default_factory=dict)


class Bytes:
    """Sizes of the kernel's websocket frames as the page receives them, by message type."""

    _TYPE = re.compile(rb'"msg_type":\s*"([a-z_]+)"')

    def __init__(self) -> None:
        self.frames: list[tuple[str, int]] = []

    def attach(self, page: Any) -> None:
        page.on("websocket", lambda socket: socket.on("framereceived", self._received))

    def _received(self, payload: str | bytes) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        match = self._TYPE.search(data[:4096])
        self.frames.append((match.group(1).decode() if match else "?", len(data)))

    def take(self, kinds: tuple[str, ...]) -> int:
        total = sum(size for kind, size in self.frames if kind in kinds)
        self.frames.clear()
        return total


class LabBench:
    def __init__(self, page: Any, browser: Any, args: argparse.Namespace, results: LabResults) -> None:
        self.page, self.browser, self.args, self.results = page, browser, args, results
        self.bytes = Bytes()  # attached by run() before the notebook opens its kernel's websocket

    # -- page helpers
    def call(self, function: str, *arguments: Any) -> Any:
        return self.page.evaluate(
            "async ([name, args]) => (await import('/attnwidget-bench/lab_page.js'))[name](...args)",
            [function, list(arguments)],
        )

    def cell(self, code: str, kind: str = "none", timeout_ms: int = 180_000) -> dict:
        result = self.call("runCell", NOTEBOOK, code, kind, timeout_ms)
        for output in result["outputs"]:
            if output.get("output_type") == "error":
                raise RuntimeError(f"cell failed: {code!r}: {output.get('ename')}: {output.get('evalue')}")
        return result

    def printed(self, code: str) -> Any:
        """Run a cell that prints one JSON line and return it parsed."""
        outputs = self.cell(code)["outputs"]
        text = "".join("".join(o.get("text", "")) for o in outputs if o.get("output_type") == "stream")
        return json.loads(text.strip().splitlines()[-1])

    def marks(self) -> list[list]:
        return self.printed("print(json.dumps(_marks)); _marks.clear()")

    # -- phases
    def paint(self, library: str, n: int, reps: int, timeout_ms: int = 120_000) -> None:
        key = f"{library} {n}"
        for index in range(reps):
            self.bytes.frames.clear()
            code = f"_show({n}, {index})" if library == "attnwidget" else f"_bertviz({n}, {index})"
            result = self.cell(code, library, timeout_ms)
            kinds = ("comm_open", "comm_msg") if library == "attnwidget" else ("display_data", "execute_result")
            self.results.bytes.setdefault(key, []).append(self.bytes.take(kinds))
            if result["painted"] is None:
                self.results.errors[f"{key} #{index}"] = f"not painted within {timeout_ms} ms"
                continue
            self.results.painted.setdefault(key, []).append(result["painted"])
            ((_, start, end),) = self.marks()
            painted_epoch = result["startEpoch"] + result["painted"]
            self.results.kernel_ms.setdefault(key, []).append(end - start)
            self.results.after_kernel_ms.setdefault(key, []).append(painted_epoch - end)
            print(f"  {key}: painted {result['painted']:.0f} ms (kernel {end - start:.0f} ms)", flush=True)

    def enter_widget(self, n: int, reps: int) -> list[tuple[str, str]]:
        """Show a widget whose page messages the kernel times; the (sentence, marker) pairs to type."""
        self.cell(f"_w = _show({n}, 0); _time_page_runs(_w); _w", "attnwidget")
        self.marks()
        sentences = self.printed(f"print(json.dumps(_MARKED[{n}]))")
        return [(sentences[k % len(MARKERS)], MARKERS[k % len(MARKERS)]) for k in range(reps)]

    def enter_sentences(self, n: int, inputs: list[tuple[str, str]], record: bool = True) -> None:
        """Type each sentence and press Enter: no cell runs in between, so a trace sees only this."""
        for index, (sentence, marker) in enumerate(inputs):
            self.call("kernelQuiet", NOTEBOOK)  # the previous view's layers have all arrived
            result = self.call("enterSentence", NOTEBOOK, sentence, marker, 120_000)
            if result["ms"] is None:
                self.results.errors[f"enter {n} #{index}"] = "new tokens not drawn within 120 s"
            elif record:
                self.results.enter.setdefault(n, []).append(result["ms"])
                print(f"  Enter at {n} tokens: {result['ms']:.0f} ms", flush=True)

    def enter(self, n: int, reps: int) -> None:
        self.enter_sentences(n, self.enter_widget(n, reps))
        handled = self.printed("print(json.dumps(_run_handling)); _run_handling.clear()")
        self.results.enter_kernel[n] = [end - start for start, end in handled]

    def interactions(self, n: int, reps: int) -> None:
        self.cell(f"_show({n}, 0)", "attnwidget")
        self.marks()
        for what, into in (("hover", self.results.hover), ("layer", self.results.layer)):
            samples = self.call("interact", NOTEBOOK, what, reps)
            into[f"attnwidget {n}"] = Stats.of([sample["frame"] for sample in samples])
            self.results.work[f"{what} {n}"] = Stats.of([sample["work"] for sample in samples])
            print(f"  {what} at {n}: p95 {into[f'attnwidget {n}'].p95:.0f} ms", flush=True)
        self.results.floor[str(n)] = Stats.of([sample["frame"] for sample in self.call("interact", NOTEBOOK, "nothing", reps)])

    def traced(self, label: str, count: int, action: Any) -> None:
        self.call("settle", NOTEBOOK)  # the trace sees the interactions, not layers still arriving
        self.browser.start_tracing(page=self.page, categories=TRACE_CATEGORIES)
        try:
            action()
        finally:
            trace = json.loads(self.browser.stop_tracing())
        self.results.traces[label] = summarise_trace(trace, count)
        self.results.trace_top[label] = trace_self_times(trace, top=int(os.environ.get("LAB_TRACE_TOP", "8")))


def summarise_trace(trace: dict, interactions: int) -> dict[str, float]:
    """ms per interaction: the renderer main thread's self time grouped, and every Commit."""
    self_ms = trace_self_times(trace, top=1000)
    groups = {
        "script": (
            "FunctionCall",
            "EvaluateScript",
            "TimerFire",
            "FireAnimationFrame",
            "EventDispatch",
            "v8.callFunction",
            "v8.run",
            "V8.GCScavenger",
            "MajorGC",
            "MinorGC",
            "RunMicrotasks",
            "v8.evaluateModule",
            "V8.Execute",
        ),
        "style": ("UpdateLayoutTree", "RecalculateStyles", "ParseAuthorStyleSheet", "ScheduleStyleRecalculation"),
        "layout": (
            "Layout",
            "UpdateLayerTree",
            "LayoutShift",
            "IntersectionObserverController::computeIntersections",
            "LocalFrameView::performLayout",
            "InlineNode::ShapeTextIncludingFirstLine",
        ),
        # Layerisation (PaintArtifactCompositor::Update) grows with everything the page paints:
        # in JupyterLab it is the part of a frame that the harness page never pays.
        "paint": (
            "Paint",
            "PaintImage",
            "PrePaint",
            "Layerize",
            "UpdateLayer",
            "PaintSetup",
            "Decode Image",
            "PaintArtifactCompositor::Update",
        ),
    }
    summary = {group: sum(self_ms.get(name, 0.0) for name in names) for group, names in groups.items()}
    events = trace.get("traceEvents", trace) if isinstance(trace, dict) else trace
    commits = [event.get("dur", 0) / 1000 for event in events if event.get("name") == "Commit" and event.get("ph") == "X"]
    summary["Commit"] = sum(commits)
    summary["longest Commit"] = max(commits, default=0.0)
    per = {key: round(value / max(interactions, 1), 2) for key, value in summary.items()}
    per["longest Commit"] = round(summary["longest Commit"], 2)
    return per


# ---- the run ------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> LabResults:
    from playwright.sync_api import sync_playwright

    results = LabResults()
    results.meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "reps": args.reps,
        "threads": args.threads,
    }
    missing = [str(path) for path in CDN_COPIES.values() if not path.is_file()]
    if missing:
        sys.exit(f"BertViz's scripts have no local copy ({', '.join(missing)}): run `npm ci --prefix benchmarks`")
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="attnwidget-lab-") as tmp,
        labhost.running_lab(Path(tmp)) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=labhost.CHROMIUM, args=labhost.CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT, base_url=server.url)
        outside: list[str] = []
        context.route(lambda url: url.startswith(CDN), lambda route: _serve_cdn_copy(route))
        context.route("**/attnwidget-bench/*.js", lambda route: _serve_page_script(route))
        context.route(
            lambda url: not labhost.is_local(url) and not url.startswith(CDN),
            lambda route: (outside.append(route.request.url), route.abort("blockedbyclient")),
        )
        page = context.new_page()
        page.set_default_timeout(180_000)
        console_errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        bench = LabBench(page, browser, args, results)
        bench.bytes.attach(page)
        lab = labhost.Lab(page, server)
        lab.write_notebook(NOTEBOOK, [])
        lab.open_notebook(NOTEBOOK)

        def phase(name: str, action: Any, part: str = "") -> None:
            if part and part not in args.parts:
                return
            print(f"[{time.perf_counter() - started:6.1f}s] {name}", flush=True)
            try:
                action()
            except Exception as error:  # noqa: BLE001 - every phase that can be measured is
                results.errors[name] = f"{type(error).__name__}: {error}"[:1500]
                print(f"  failed: {results.errors[name]}", flush=True)

        phase(
            "kernel set-up",
            lambda: bench.cell(SETUP.format(bench=str(BENCH_DIR), threads=args.threads, sizes=SIZES, markers=MARKERS)),
        )
        phase(
            "forward passes",
            lambda: results.forward_ms.update(
                {
                    int(k): v
                    for k, v in bench.printed("print(json.dumps({n: _time_forward(_TEXTS[n][0]) for n in _SIZES}))").items()
                }
            ),
        )
        for n in SIZES:
            phase(f"attnwidget {n}: cell to painted", lambda n=n: bench.paint("attnwidget", n, args.paint_reps), "paint")
        for n in (128, 512):
            phase(f"attnwidget {n}: hover and layer changes", lambda n=n: bench.interactions(n, args.reps), "interactions")
        for n in (16, 512):
            phase(f"attnwidget {n}: sentence box Enter", lambda n=n: bench.enter(n, args.enter_reps), "enter")
        if "traces" in args.parts and not {"interactions", "enter"} & set(args.parts):
            phase(
                "trace: a 512-token widget to interact with", lambda: (bench.cell("_show(512, 0)", "attnwidget"), bench.marks())
            )
        phase(
            "trace: hover 512",
            lambda: bench.traced("hover, 512 tokens", 10, lambda: bench.call("interact", NOTEBOOK, "hover", 10)),
            "traces",
        )
        phase(
            "trace: layer change 512",
            lambda: bench.traced("layer change, 512 tokens", 10, lambda: bench.call("interact", NOTEBOOK, "layer", 10)),
            "traces",
        )

        def trace_enter() -> None:
            inputs = bench.enter_widget(16, 3)
            bench.traced("Enter, 16 tokens", 3, lambda: bench.enter_sentences(16, inputs, record=False))

        phase("trace: Enter 16", trace_enter, "traces")

        def trace_paint() -> None:
            bench.traced("cell → painted, 128 tokens", 1, lambda: bench.cell("_show(128, 1)", "attnwidget"))
            bench.marks()

        phase("trace: cell to painted 128", trace_paint, "traces")
        phase(
            "ready, earlier widgets alive",
            lambda: results.ready.update(alive=bench.printed("print(json.dumps(_ready_ratio(3, keep=True)))")),
            "ready",
        )
        phase(
            "ready, earlier widgets closed",
            lambda: results.ready.update(
                closed=bench.printed(
                    "[w.close() for w in _widgets]; _widgets.clear(); gc.collect(); print(json.dumps(_ready_ratio(3, keep=False)))"
                )
            ),
            "ready",
        )
        if "bertviz" not in args.skip and "bertviz" in args.parts:
            phase("BertViz 16: cell to painted", lambda: bench.paint("bertviz", 16, args.paint_reps))
            phase("BertViz 128: cell to painted", lambda: bench.paint("bertviz", 128, 2, timeout_ms=60_000))
            phase(
                "BertViz 128: hover",
                lambda: results.hover.update(
                    {
                        "bertviz 128": Stats.of(
                            [s["frame"] for s in bench.call("hoverBertViz", NOTEBOOK, 3, 60_000) if s["frame"] is not None]
                        )
                    }
                ),
            )
            if args.bertviz_512:
                phase("BertViz 512: cell to painted", lambda: bench.paint("bertviz", 512, 1, timeout_ms=60_000))
        phase(
            "forward passes, again",
            lambda: [
                results.forward_ms.__setitem__(int(k), statistics.median([results.forward_ms.get(int(k), v), v]))
                for k, v in bench.printed("print(json.dumps({n: _time_forward(_TEXTS[n][0]) for n in _SIZES}))").items()
            ],
        )
        results.meta["console_errors"] = console_errors[:20]
        results.meta["blocked_requests"] = outside[:20]
        context.close()
        browser.close()
    results.meta["seconds"] = round(time.perf_counter() - started, 1)
    results.meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def _serve_cdn_copy(route: Any) -> None:
    url = route.request.url
    for suffix, path in CDN_COPIES.items():
        if url.startswith(CDN) and url.endswith(suffix):
            route.fulfill(path=str(path), content_type="application/javascript")
            return
    route.abort("blockedbyclient")


def _serve_page_script(route: Any) -> None:
    name = route.request.url.rsplit("/", 1)[-1].split("?", 1)[0]
    path = PAGE_SCRIPTS.get(name)
    if path is None:
        route.abort("blockedbyclient")
    else:
        route.fulfill(path=str(path), content_type="application/javascript")


# ---- the report ---------------------------------------------------------------------------


def _median(values: list[float] | None) -> float | None:
    return statistics.median(values) if values else None


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _kb(value: float | None) -> str:
    return "—" if value is None else f"{value / 1000:.1f} kB"


def _verdict(value: float | None, limit: float | None) -> str:
    if value is None or limit is None:
        return "—"
    return "met" if value <= limit else "**not met**"


def report(results: LabResults) -> str:
    f = results.forward_ms
    med = {key: _median(values) for key, values in results.painted.items()}
    rows: list[tuple[str, str, str, str, str]] = []  # measure, target, attnwidget, BertViz, met

    bv16 = med.get("bertviz 16")
    rows.append(
        (
            "cell executed → head view and heatmap painted, 16 tokens",
            f"< BertViz ({_ms(bv16)})",
            _ms(med.get("attnwidget 16")),
            _ms(bv16),
            _verdict(med.get("attnwidget 16"), bv16),
        )
    )
    for n, budget in ((128, 250), (512, 500)):
        limit = f[n] + budget if n in f else None
        bertviz = med.get(f"bertviz {n}")
        rows.append(
            (
                f"same, {n} tokens",
                f"≤ forward + {budget} ms ({_ms(limit)})",
                _ms(med.get(f"attnwidget {n}")),
                _ms(bertviz) if bertviz else ("not run (crashed the tab in #12)" if n == 512 else "—"),
                _verdict(med.get(f"attnwidget {n}"), limit),
            )
        )
    for n, budget in ((16, 100), (512, 200)):
        limit = f[n] + budget if n in f else None
        value = _median(results.enter.get(n))
        kernel = _median(results.enter_kernel.get(n))
        rows.append(
            (
                f"sentence box Enter → new tokens drawn, {n} tokens",
                f"≤ forward + {budget} ms ({_ms(limit)})",
                f"{_ms(value)} (kernel's handling {_ms(kernel)}, forward {_ms(f.get(n))})",
                "no sentence box",
                _verdict(value, limit),
            )
        )
    for what, into, limit in (("hover", results.hover, 33.0), ("layer change", results.layer, 50.0)):
        for n in (128, 512):
            stats = into.get(f"attnwidget {n}")
            bertviz = into.get(f"bertviz {n}")
            rows.append(
                (
                    f"{what} p95 (event → next frame), {n} tokens",
                    f"≤ {limit:.0f} ms",
                    _ms(stats.p95 if stats else None) + (f" (median {_ms(stats.median)})" if stats else ""),
                    _ms(bertviz.p95) if bertviz else "—",
                    _verdict(stats.p95 if stats else None, limit),
                )
            )
    for state in ("alive", "closed"):
        ready = results.ready.get(state)
        ratio = ready["ready"] / ready["forward"] if ready else None
        rows.append(
            (
                f"widget ready in the kernel, 512 tokens, earlier widgets {state}",
                "≤ 1.3 × forward",
                f"{ratio:.2f} × ({_ms(ready['ready'])} / {_ms(ready['forward'])})" if ready else "—",
                "—",
                _verdict(ratio, 1.3),
            )
        )
    first = results.bytes.get("attnwidget 16", [])
    bertviz_bytes = _median(results.bytes.get("bertviz 16"))
    later = _median(first[1:]) if len(first) > 1 else None
    rows.append(
        (
            "bytes to the page per widget, 16 tokens (each further widget)",
            "≤ 40 kB",
            _kb(later),
            _kb(bertviz_bytes),
            _verdict(later, 40_000),
        )
    )
    rows.append(("same, the first widget of a kernel (front end included once)", "—", _kb(first[0] if first else None), "—", "—"))

    meta = results.meta
    lines = [
        "# attnwidget in a real JupyterLab page, beside BertViz",
        "",
        f"{meta.get('date')}, {meta.get('cpus')} CPUs, load average {meta.get('loadavg_start')} at the start and "
        f"{meta.get('loadavg_end')} at the end, {meta.get('seconds')} s; torch threads {meta.get('threads')}. "
        "Medians unless a percentile is named; the same page and kernel for both libraries.",
        "",
        "| measure | target | attnwidget | BertViz, same run | |",
        "|---|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows],
        "",
        "Forward pass in the kernel (bare `model(**inputs, output_attentions=True)`, median): "
        + ", ".join(f"{n} tokens {_ms(v)}" for n, v in sorted(f.items()))
        + ".",
        "",
        "Work of the same hovers and layer changes (timing.js `work`: the handlers and the drawing frame's own "
        "script, style, layout and paint, without the wait for the frame; median / p95): "
        + ", ".join(f"{key} {stats.median:.1f} / {stats.p95:.1f} ms" for key, stats in results.work.items())
        + ".",
        "",
        "The method's floor, the same page and timing for an action that changes nothing (median / p95): "
        + ", ".join(f"{n} tokens {stats.median:.1f} / {stats.p95:.1f} ms" for n, stats in results.floor.items())
        + ". A change shows at the earliest one frame later, so a p95 within two frames (33 ms) needs the "
        "drawing frame's own work to fit in one frame (16.7 ms), nearly every time.",
        "",
        "## Cell executed → painted, split at the kernel's end (medians)",
        "",
        "| case | painted | in the kernel | kernel done → painted | runs |",
        "|---|---|---|---|---|",
        *[
            f"| {key} | {_ms(med[key])} | {_ms(_median(results.kernel_ms.get(key)))} | {_ms(_median(results.after_kernel_ms.get(key)))} | {len(results.painted[key])} |"
            for key in results.painted
        ],
        "",
        "## Chrome trace, ms per interaction (renderer main thread self time; Commit on any thread)",
        "",
        "Self time of generic tasks (RunTask) is left out of every group; the busiest events are listed below the table.",
        "",
        "| interaction | script | style | layout | paint (with layerisation) | Commit | longest Commit |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {label} | {t['script']} | {t['style']} | {t['layout']} | {t['paint']} | {t['Commit']} | {t['longest Commit']} |"
            for label, t in results.traces.items()
        ],
        "",
        "Busiest renderer main-thread events in each trace (self time, ms in total): "
        + "; ".join(
            f"*{label}*: " + ", ".join(f"{name} {ms}" for name, ms in top.items()) for label, top in results.trace_top.items()
        ),
    ]
    if results.errors:
        lines += ["", "## Parts that failed", "", *[f"- {name}: {error}" for name, error in results.errors.items()]]
    if meta.get("console_errors"):
        lines += ["", "Console errors: " + "; ".join(meta["console_errors"])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=30, help="hovers and layer changes per size")
    parser.add_argument("--paint-reps", type=int, default=3, help="cells per size and library")
    parser.add_argument("--enter-reps", type=int, default=5, help="sentence box Enters per size")
    parser.add_argument("--threads", type=int, default=1, help="torch threads in the kernel")
    parser.add_argument("--skip", nargs="*", default=[], choices=["bertviz"])
    parser.add_argument(
        "--parts",
        nargs="*",
        default=list(PARTS),
        choices=PARTS,
        help="measure only these (all by default); the traces hover and change layers on the last widget shown",
    )
    parser.add_argument("--bertviz-512", action="store_true", help="also try BertViz at 512 tokens (60 s limit)")
    parser.add_argument("--out", default=str(BENCH_DIR / "results"))
    args = parser.parse_args(argv)
    results = run(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = report(results)
    (out / "lab.md").write_text(text)
    (out / "lab.json").write_text(json.dumps(asdict(results), indent=1, default=str))
    print(text)
    print(f"wrote {out / 'lab.md'} and {out / 'lab.json'}")
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
