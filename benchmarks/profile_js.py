"""Where the page's time goes: a CPU profile of the front end, by source file and function.

The shipped bundle is minified, so this builds an unminified copy of the same
sources (``js/index.ts`` with the repo's esbuild, into a temporary directory;
nothing in the repo is touched) and profiles it with the Chrome DevTools Protocol
while the harness does a first paint, hovers and layer changes. Self time is
attributed to the ``js/...`` file each function comes from (esbuild marks each
module in an unminified bundle with a ``// js/path.ts`` comment). Time outside
JavaScript (style, layout, paint, GC) shows as ``(program)``/``(garbage collector)``.
"""

from __future__ import annotations

import bisect
import json
import re
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import REPO_DIR
from harness.server import page_url, serve
from measure_browser import VIEWPORT, BrowserCase, launch

_MODULE_COMMENT = re.compile(r"^// ((?:js|node_modules)/\S+)$")


@dataclass
class JsProfile:
    label: str  # case and phase, e.g. "offline 512: first paint"
    total_ms: float
    by_file: dict[str, float] = field(default_factory=dict)  # ms of self time per source file, largest first
    top_functions: list[tuple[str, str, float]] = field(default_factory=list)  # (function, file, ms)
    # Self time of the renderer main thread's trace events (Layout, UpdateLayoutTree = style,
    # Paint, FunctionCall = JavaScript, ...), from a Chrome trace of the same phase.
    trace_self_ms: dict[str, float] = field(default_factory=dict)


def build_unminified(out_dir: Path) -> Path:
    """Bundle js/index.ts without minifying; returns the directory holding widget.js and widget.css."""
    esbuild = REPO_DIR / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        raise FileNotFoundError(f"{esbuild} not found: run npm install")
    command = [
        str(esbuild),
        "widget=js/index.ts",
        "--bundle",
        "--format=esm",
        "--target=es2022",
        f"--outdir={out_dir}",
        "--log-level=error",
    ]
    subprocess.run(command, cwd=REPO_DIR, check=True, capture_output=True, text=True)
    return out_dir


class _FileMap:
    """Line number in the bundle to the source file it came from."""

    def __init__(self, bundle: Path) -> None:
        self.starts: list[int] = []
        self.files: list[str] = []
        for number, line in enumerate(bundle.read_text().splitlines()):
            match = _MODULE_COMMENT.match(line.strip())
            if match:
                self.starts.append(number)
                self.files.append(match.group(1))

    def file(self, line: int) -> str:
        index = bisect.bisect_right(self.starts, line) - 1
        return self.files[index] if index >= 0 else "(bundle prelude)"


def summarise(profile: dict, files: _FileMap, bundle_url: str, label: str, top: int = 8) -> JsProfile:
    """Self time per file and per function from a CDP ``Profiler.stop`` profile."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    self_us: dict[int, float] = defaultdict(float)
    for sample, delta in zip(profile["samples"], profile["timeDeltas"]):
        self_us[sample] += delta
    by_file: dict[str, float] = defaultdict(float)
    by_function: dict[tuple[str, str], float] = defaultdict(float)
    total = 0.0
    for node_id, micros in self_us.items():
        frame = nodes[node_id]["callFrame"]
        name = frame["functionName"] or "(anonymous)"
        if frame["url"] == bundle_url:
            where = files.file(frame["lineNumber"])
        elif name.startswith("(") or not frame["url"]:
            where = name  # (program), (garbage collector), (idle), native
        else:
            where = frame["url"].rsplit("/", 1)[-1]  # the harness itself
        if where == "(idle)":
            continue
        ms = micros / 1000
        total += ms
        by_file[where] += ms
        by_function[(name, where)] += ms
    ordered_files = dict(sorted(by_file.items(), key=lambda item: -item[1]))
    functions = sorted(by_function.items(), key=lambda item: -item[1])[:top]
    return JsProfile(
        label=label,
        total_ms=total,
        by_file={key: round(value, 2) for key, value in ordered_files.items()},
        top_functions=[(name, where, round(ms, 2)) for (name, where), ms in functions],
    )


# "disabled-by-default-skia" shows the canvas drawing that Chromium defers to the commit (SkCanvas::drawPath, ...).
TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "blink", "cc", "disabled-by-default-skia"]


def trace_self_times(trace: dict, top: int = 10) -> dict[str, float]:
    """Self time (ms) per event name on the busiest renderer main thread of a Chrome trace.

    Complete events ("X") nest; an event's self time is its duration minus that of
    its direct children, so the figures add up to the thread's busy time.
    """
    events = trace.get("traceEvents", trace) if isinstance(trace, dict) else trace
    main_threads = {
        (event["pid"], event["tid"])
        for event in events
        if event.get("ph") == "M" and event.get("name") == "thread_name" and event.get("args", {}).get("name") == "CrRendererMain"
    }
    by_thread: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for event in events:
        key = (event.get("pid"), event.get("tid"))
        if event.get("ph") == "X" and key in main_threads and "dur" in event:
            by_thread[key].append(event)
    if not by_thread:
        return {}
    thread = max(by_thread.values(), key=lambda items: sum(item["dur"] for item in items))
    thread.sort(key=lambda event: (event["ts"], -event["dur"]))
    self_us: dict[str, float] = defaultdict(float)
    stack: list[list] = []  # open events: [end, name, duration, time in direct children]

    def close() -> None:
        _end, name, duration, children = stack.pop()
        self_us[name] += max(duration - children, 0)

    for event in thread:
        while stack and stack[-1][0] <= event["ts"]:
            close()
        if stack:
            stack[-1][3] += event["dur"]
        stack.append([event["ts"] + event["dur"], event["name"], event["dur"], 0.0])
    while stack:
        close()
    merged: dict[str, float] = defaultdict(float)
    for name, micros in self_us.items():
        merged[_short_event_name(name)] += micros
    ordered = sorted(merged.items(), key=lambda item: -item[1])[:top]
    return {name: round(micros / 1000, 2) for name, micros in ordered}


def _short_event_name(name: str) -> str:
    """'void SkCanvas::drawPath(const SkPath &, const SkPaint &)' -> 'SkCanvas::drawPath'."""
    name = name.removeprefix("void ")
    return name.split("(", 1)[0] if "::" in name and "(" in name else name


def _profiled(cdp: Any, page: Any, expression: str) -> dict:
    cdp.send("Profiler.start")
    page.evaluate(expression)
    return cdp.send("Profiler.stop")["profile"]


def _traced(browser: Any, page: Any, expression: str) -> dict:
    browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
    page.evaluate(expression)
    return json.loads(browser.stop_tracing())


def _open(browser: Any, base: str, case: BrowserCase) -> tuple[Any, Any]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(180_000)
    page.goto(page_url(base, case.fixture, mount=False))
    page.wait_for_selector("body[data-harness=loaded]", state="attached")
    return context, page


def profile_js(cases: list[BrowserCase], fixtures_dir: Path, reps: int) -> list[JsProfile]:
    """Profile first paint (with every layer fetched), hovers and layer changes for each case.

    Each case runs twice in fresh pages: once under the CPU profiler (self time per
    source file and function), once under a Chrome trace (style, layout, paint).
    """
    from playwright.sync_api import sync_playwright

    common_phases = [
        ("first paint + layers", "window.harness.firstPaint().then(() => window.harness.settle())"),
        (f"{reps} hovers", f"window.harness.hoverTokens({reps})"),
        (f"{reps} layer changes", f"window.harness.changeLayers({reps})"),
    ]
    results: list[JsProfile] = []
    with tempfile.TemporaryDirectory(prefix="attnwidget-js-profile-") as tmp:
        static = build_unminified(Path(tmp))
        files = _FileMap(static / "widget.js")
        with serve(fixtures_dir, static) as base, sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                for case in cases:
                    print(f"  js profile: {case.label}", flush=True)
                    phases = list(common_phases)
                    if len(case.reruns) >= 2:  # one re-run update per profiled page
                        phases.append(("repaint with new data", f"window.harness.repaint({case.reruns[0]!r})"))
                    context, page = _open(browser, base, case)
                    cdp = context.new_cdp_session(page)
                    cdp.send("Profiler.enable")
                    cdp.send("Profiler.setSamplingInterval", {"interval": 100})
                    profiles = []
                    for phase, expression in phases:
                        profile = _profiled(cdp, page, expression)
                        profiles.append(summarise(profile, files, f"{base}/static/widget.js", f"{case.label}: {phase}"))
                    context.close()

                    context, page = _open(browser, base, case)
                    for profile, (_phase, expression) in zip(profiles, phases):
                        expression = expression.replace(repr(case.reruns[0]), repr(case.reruns[1])) if case.reruns else expression
                        profile.trace_self_ms = trace_self_times(_traced(browser, page, expression))
                    context.close()
                    results += profiles
            finally:
                browser.close()
    return results
