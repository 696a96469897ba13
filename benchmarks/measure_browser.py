"""Browser timings: the real bundle in headless Chromium, on the harness page.

For each fixture (a widget state dumped from Python, see harness/fixture.py) a fresh
browser context loads ``harness/index.html`` without mounting, then:

1. first paint: the fake model is created and ``render`` called, then two frames,
   in the fresh page (cold) and after unmounting and mounting again (warm);
2. complete: until every layer the page asks for has been answered and drawn;
3. hover: ``mouseout``/``mouseover``/``mousemove`` on ``[data-testid=token]`` elements;
4. layer change: the ``[data-testid=layer-select]`` value changed and ``change`` fired;
5. repaint: a pre-dumped re-run update (new ``_data``) applied, as Python sends it;
6. memory: ``performance.memory.usedJSHeapSize`` and CDP ``Runtime.getHeapUsage``
   after a forced garbage collection.

See harness/harness.js for how a time is taken (performance.now() + two rAFs).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common import Stats, labhost
from harness.server import page_url, serve

LAB_CHROMIUM, LAB_CHROMIUM_ARGS = labhost.CHROMIUM, labhost.CHROMIUM_ARGS

# The system Chromium by default; CHROMIUM=<path> picks another, CHROMIUM= (empty) Playwright's own.
CHROMIUM = os.environ.get("CHROMIUM", LAB_CHROMIUM) or None
# The flags of every Chromium the project starts (tests/helpers/labhost.py), plus exact heap sizes.
CHROMIUM_ARGS = [*LAB_CHROMIUM_ARGS, "--enable-precise-memory-info"]
VIEWPORT = {"width": 1280, "height": 1000}


@dataclass(frozen=True)
class BrowserCase:
    label: str  # e.g. "offline 512"
    fixture: str  # directory name under the fixtures root
    tokens: int
    reruns: list[str] = field(default_factory=list)  # names of re-run updates in the fixture


@dataclass
class Heap:
    """JS memory in bytes after a forced GC. ``page`` is what the page holds, harness data excluded."""

    used_js_heap: int  # performance.memory.usedJSHeapSize
    cdp_used: int  # Runtime.getHeapUsage usedSize (V8 heap)
    cdp_backing: int  # Runtime.getHeapUsage backingStorageSize (ArrayBuffer contents)
    harness_held: int  # buffers the fake kernel holds and has not handed to the page
    page: int  # cdp_used + cdp_backing - harness_held


@dataclass(frozen=True)
class Latency:
    """Repeated timings of one action, in ms (see ``measure`` in harness/harness.js)."""

    frame: Stats  # action to two animation frames later (the headline figure)
    work: Stats  # handlers' JavaScript plus the drawing frame's own time, without frame pacing
    sync: Stats  # handlers' JavaScript alone

    @classmethod
    def of(cls, samples: list[dict[str, float]]) -> Latency:
        return cls(*(Stats.of([sample[key] for sample in samples]) for key in ("frame", "work", "sync")))


@dataclass
class BrowserResult:
    label: str
    tokens: int
    first_paint: Latency | None = None  # first mount in a fresh page: data arrival to first paint
    first_paint_warm: Latency | None = None  # unmount and mount again, same page
    complete_ms: float | None = None  # first mount to every requested layer answered and drawn
    layer_requests: int = 0
    token_elements: int = 0
    hover: Latency | None = None
    layer_change: Latency | None = None
    repaint: Latency | None = None  # a re-run's new _data applied to first paint of it
    heap_before: Heap | None = None  # fixture loaded, nothing rendered
    heap_ready: Heap | None = None  # after first paint and every layer fetched
    heap_after: Heap | None = None  # after the hover and layer changes
    console_errors: list[str] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _Page:
    """One harness page in its own browser context."""

    def __init__(self, browser: Any, url: str, timeout_ms: float) -> None:
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.page.set_default_timeout(timeout_ms)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.cdp = self.context.new_cdp_session(self.page)
        self.page.goto(url)
        self.page.wait_for_selector("body[data-harness=loaded], body[data-harness=error]", state="attached")
        error = self.page.evaluate("window.harness.error")
        if error:
            raise RuntimeError(f"harness failed to load: {error}")

    def js(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def heap(self) -> Heap:
        self.cdp.send("HeapProfiler.collectGarbage")
        usage = self.cdp.send("Runtime.getHeapUsage")
        memory = self.js("window.harness.memory()")
        used, backing = int(usage["usedSize"]), int(usage.get("backingStorageSize", 0))
        held = int(memory["kernelHeldBytes"])
        return Heap(
            used_js_heap=int(memory["usedJSHeapSize"] or 0),
            cdp_used=used,
            cdp_backing=backing,
            harness_held=held,
            page=used + backing - held,
        )

    def close(self) -> None:
        self.context.close()


def measure_case(browser: Any, base: str, case: BrowserCase, reps: int, remounts: int, timeout_ms: float) -> BrowserResult:
    result = BrowserResult(label=case.label, tokens=case.tokens)
    page = None
    try:
        page = _Page(browser, page_url(base, case.fixture, mount=False), timeout_ms)
        result.heap_before = page.heap()

        keep = "{keep: true}" if remounts > 0 else "{}"
        paint = page.js(f"window.harness.firstPaint({keep})")
        result.first_paint = Latency.of([paint])
        settle = page.js("window.harness.settle()")
        result.complete_ms = paint["frame"] + settle
        summary = page.js("window.harness.summary()")
        result.layer_requests = sum(1 for request in summary["requests"] if request.get("type") == "layers")
        result.token_elements = summary["tokens"]
        if summary["unanswered"]:
            raise RuntimeError(f"the fixture could not answer {summary['unanswered'][:3]}")
        if not paint["tokensShown"]:
            raise RuntimeError("no [data-testid=token] element after the first paint")

        warm = []
        for index in range(remounts):
            last = index == remounts - 1
            page.js("window.harness.unmount()")
            warm.append(page.js(f"window.harness.firstPaint({{keep: {str(not last).lower()}}})"))
            page.js("window.harness.settle()")
        if warm:
            result.first_paint_warm = Latency.of(warm)
        result.heap_ready = page.heap()

        result.hover = Latency.of(page.js(f"window.harness.hoverTokens({reps})"))
        result.layer_change = Latency.of(page.js(f"window.harness.changeLayers({reps})"))
        page.js("window.harness.settle()")  # layer changes may have asked for layers
        result.heap_after = page.heap()

        if case.reruns:
            result.repaint = Latency.of([page.js(f"window.harness.repaint({name!r})") for name in case.reruns])
        result.console_errors = page.errors[:10]
    except Exception as error:  # noqa: BLE001 - one failing case must not stop the others
        result.error = f"{type(error).__name__}: {error}".strip()[:2000]
        if page is not None:
            result.console_errors = page.errors[:10]
    finally:
        if page is not None:
            page.close()
    return result


def launch(playwright: Any) -> Any:
    """Headless Chromium with the benchmark's flags."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def measure_browser(
    cases: list[BrowserCase],
    fixtures_dir: Path,
    static_dir: Path,
    reps: int,
    remounts: int = 4,
    timeout_ms: float = 180_000,
) -> list[BrowserResult]:
    """Run every case in one headless Chromium; a failing case records its error."""
    from playwright.sync_api import sync_playwright

    results = []
    with serve(fixtures_dir, static_dir) as base, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for case in cases:
                print(f"  browser: {case.label}", flush=True)
                results.append(measure_case(browser, base, case, reps, remounts, timeout_ms))
        finally:
            browser.close()
    return results
