"""A long input in a real JupyterLab page: first paint after the widget is ready, hover and layer change.

    python benchmarks/long_page.py --tokens 8192        # about 2 minutes on 2 cores

The kernel builds the random 4 × 8 decoder of ``long_context.py`` and an 8,192-token widget
(a long input under the default budget); the cell prints ``time.time()`` when the widget is
ready. The page (Chromium through Playwright, JupyterLab started as the browser tests start it)
reports ``Date.now()`` when the heatmap's colour bar shows (the first tile has arrived and is
drawn: two animation frames later); the same clock on one machine. Hovers: pointer moves over heatmap cells, each timed from the event to two
animation frames after it (the page's own work: handlers, script, layout, paint; answers the
kernel sends later repaint without being counted). Layer changes: the layer select, timed to
the heatmap's new tile drawn (with the kernel's answer when the tile is not on the page yet):
twice right after the hovers, then four times after the page was idle for 5 s (it fetches the
other layers' tiles when idle). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from common import labhost  # also puts src/ and tests/ on sys.path

BENCH_DIR = Path(__file__).resolve().parent

SETUP = """
import sys, time
sys.path.insert(0, {bench!r})
import torch
torch.set_num_threads(1)
from attnwidget import AttentionWidget
from long_context import long_input
loaded, text = long_input({n})
"""

SHOW = """
w = AttentionWidget(text, model=loaded)
print(json.dumps({"ready": time.time() * 1000, "tokens": len(w.tokens), "long": w.is_long_input}))
w
"""


def when(condition: str) -> str:
    """A page function resolving with Date.now() two frames after ``condition`` first holds (polled every frame)."""
    return f"""() => new Promise((resolve) => {{
      const done = {condition};
      const poll = () => done() ? requestAnimationFrame(() => requestAnimationFrame(() => resolve(Date.now()))) : requestAnimationFrame(poll);
      poll();
    }})"""


COLORBAR_SHOWN = (
    "() => { const bar = document.querySelector('.attnwidget [data-testid=heatmap-colorbar]'); return !!bar && !bar.hidden; }"
)
# Pointer moves over `count` cells along the plot's diagonal band, each timed to two frames after it.
HOVERS = """async (count) => {
  const plot = document.querySelector('.attnwidget [data-testid=heatmap-plot]');
  const box = plot.getBoundingClientRect();
  const times = [];
  for (let i = 0; i < count; i++) {
    const x = box.left + box.width * (0.05 + 0.9 * (i / count)), y = box.top + box.height * (0.1 + 0.85 * ((i * 7) % count) / count);
    const start = performance.now();
    plot.dispatchEvent(new PointerEvent('pointermove', { bubbles: true, clientX: x, clientY: y, pointerId: 1 }));
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    times.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  return times;
}"""


# The layer menu set as a reader sets it, timed in the page to two frames after the heatmap shows the new
# layer's tile (no Playwright round trip inside the measurement).
LAYER_CHANGE = """async (layer) => {
  const select = document.querySelector('.attnwidget [data-testid=layer-select]');
  const caption = document.querySelector('.attnwidget [data-testid=heatmap-caption]');
  const bar = document.querySelector('.attnwidget [data-testid=heatmap-colorbar]');
  const start = performance.now();
  select.value = String(layer);
  select.dispatchEvent(new Event('change', { bubbles: true }));
  await new Promise((resolve) => {
    const shown = () => caption.textContent.startsWith(`Layer ${layer} `) && !bar.hidden;
    const poll = () => shown() ? requestAnimationFrame(() => requestAnimationFrame(resolve)) : requestAnimationFrame(poll);
    poll();
  });
  return performance.now() - start;
}"""

# The pointer leaves the heatmap (to reach the layer menu): the hover ends.
LEAVE = "() => document.querySelector('.attnwidget [data-testid=heatmap-plot]').dispatchEvent(new PointerEvent('pointerleave'))"
IDLE_MS = 5000


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=8192)
    parser.add_argument("--hovers", type=int, default=40)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="attnwidget-long-") as tmp,
        labhost.running_lab(Path(tmp)) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=labhost.CHROMIUM, args=labhost.CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=server.url).new_page()
        page.set_default_timeout(300_000)
        lab = labhost.Lab(page, server)
        lab.write_notebook("long_page.ipynb", ["import json"])
        lab.open_notebook("long_page.ipynb")
        lab.run_all()
        lab.run_code(SETUP.format(bench=str(BENCH_DIR), n=args.tokens))
        shown = json.loads(lab.run_code(SHOW).strip().splitlines()[0])
        painted = page.evaluate(when(COLORBAR_SHOWN))
        hovers = page.evaluate(HOVERS, args.hovers)
        page.evaluate(LEAVE)

        def change_layers(layers: tuple[int, ...]) -> list[float]:
            return [page.evaluate(LAYER_CHANGE, layer) for layer in layers]

        cold = change_layers((1, 2))  # at once, while the hovers' requests are still being answered
        page.wait_for_timeout(IDLE_MS)  # the reader looks: the page fetches the other layers' tiles meanwhile
        warm = change_layers((3, 0, 1, 2))
        browser.close()
    print(
        json.dumps(
            {
                "shown": shown,
                "first_paint_ms": painted - shown["ready"],
                "hovers_ms": hovers,
                "cold_layer_changes_ms": cold,
                "warm_layer_changes_ms": warm,
            }
        ),
        file=sys.stderr,
    )
    print(
        "| tokens | first paint after ready | hover p95 (median), page work "
        f"| layer change right after the hovers | layer change after {IDLE_MS / 1e3:.0f} s idle (slowest) |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| {shown['tokens']:,} | {(painted - shown['ready']) / 1e3:.2f} s | "
        f"{p95(hovers):.0f} ms ({statistics.median(hovers):.0f} ms) | {', '.join(f'{c / 1e3:.2f}' for c in cold)} s | "
        f"{max(warm):.0f} ms |"
    )


if __name__ == "__main__":
    main()
