// The benchmark's side of a real JupyterLab page (lab.py serves this file and timing.js
// into the page and imports them). Cells are inserted and executed through JupyterLab's
// own commands; every time is performance.now() in the page, and what the kernel
// reports is aligned through performance.timeOrigin (both are wall-clock ms).

import { changeLayers, doNothing, frames, hoverTokens, now } from "./timing.js";

export { changeLayers, hoverTokens };

const app = () => {
  if (!window.jupyterapp) throw new Error("window.jupyterapp is missing (start JupyterLab with expose_app_in_browser)");
  return window.jupyterapp;
};

function findPanel(path) {
  for (const widget of app().shell.widgets("main")) {
    if (widget.context && widget.context.path === path && widget.content && widget.content.widgets) return widget;
  }
  throw new Error(`no open notebook ${path}`);
}

const tokensOf = (root) => [...root.querySelectorAll("[data-testid=head-view] [data-testid=token]")];

/** What "painted" means for each kind of output: the first frame after it is in the DOM. */
const PAINTED = {
  // The head view's token labels and the heatmap's canvas, sized: both panels drawn.
  attnwidget: (node) => {
    const root = node.querySelector(".attnwidget");
    const canvas = root && root.querySelector("[data-testid=heatmap] canvas");
    return !!root && tokensOf(root).length > 0 && !!canvas && canvas.width > 0;
  },
  // BertViz draws its SVG in one script: token texts on both sides and the attention lines.
  bertviz: (node) => !!node.querySelector("svg #right text") && !!node.querySelector("svg line"),
  none: () => true,
};

/** Resolve with the ms from `start` to the frame after `ready()` first holds (checked once per frame). */
async function paintedAfter(start, ready, timeoutMs) {
  for (;;) {
    await frames(1);
    if (ready()) {
      await frames(1); // the frame that drew it has been produced
      return now() - start;
    }
    if (now() - start > timeoutMs) return null;
  }
}

const epoch = (time) => performance.timeOrigin + time;

/**
 * Append a code cell to notebook `path`, scroll it to the top, start the clock and run it.
 * Returns ms to painted (`kind` in PAINTED), ms to the end of execution, the start as epoch
 * ms and the cell's outputs (nbformat JSON).
 */
export async function runCell(path, code, kind = "none", timeoutMs = 120000) {
  const panel = findPanel(path);
  app().shell.activateById(panel.id);
  const notebook = panel.content;
  notebook.activeCellIndex = notebook.widgets.length - 1;
  await app().commands.execute("notebook:insert-cell-below");
  if (notebook.activeCell.model.type !== "code") await app().commands.execute("notebook:change-cell-to-code");
  const cell = notebook.activeCell;
  cell.model.sharedModel.setSource(code);
  cell.node.scrollIntoView({ block: "start" });
  await frames(2); // the new cell is drawn before the clock starts
  const start = now();
  let executed = null;
  const run = app().commands.execute("notebook:run-cell").then(() => (executed = now() - start));
  const painted = await paintedAfter(start, () => PAINTED[kind](cell.outputArea.node), timeoutMs);
  await run;
  return { painted, executed, startEpoch: epoch(start), outputs: cell.model.outputs.toJSON() };
}

/** The attnwidget root in the last cell of `path` that shows one. */
export function lastWidget(path) {
  const cells = findPanel(path).content.widgets;
  for (let index = cells.length - 1; index >= 0; index -= 1) {
    const root = cells[index].node.querySelector(".attnwidget");
    if (root) return root;
  }
  throw new Error("no attnwidget output in the notebook");
}

/** The BertViz head view in the last cell of `path` that shows one. */
export function lastBertViz(path) {
  const cells = findPanel(path).content.widgets;
  for (let index = cells.length - 1; index >= 0; index -= 1) {
    const svg = cells[index].node.querySelector("svg #left");
    if (svg) return svg.closest("svg");
  }
  throw new Error("no BertViz output in the notebook");
}

/** Hover BertViz's left-hand tokens `count` times; event to the frame after it (as `measure`). */
export async function hoverBertViz(path, count, timeoutMs = 60000) {
  const svg = lastBertViz(path);
  svg.scrollIntoView({ block: "start" });
  const texts = [...svg.querySelectorAll("#left text")];
  const results = [];
  for (let index = 0; index < count; index += 1) {
    const target = texts[(index * 7919 + 1) % texts.length];
    const start = now();
    target.dispatchEvent(new MouseEvent("mouseover", { bubbles: true, cancelable: true, view: window }));
    const frame = await paintedAfter(start, () => true, timeoutMs);
    results.push({ frame, sync: frame, work: frame, paint: frame });
  }
  return results;
}

/**
 * Wait until the kernel has been idle for `quietMs`: after a re-run the page fetches the other
 * layers in the background, and a reader looks at the new view before typing again.
 */
export async function kernelQuiet(path, quietMs = 300, timeoutMs = 60000) {
  const kernel = findPanel(path).sessionContext.session.kernel;
  const start = now();
  let idleSince = null;
  while (now() - start < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (kernel.status !== "idle") idleSince = null;
    else if (idleSince === null) idleSince = now();
    else if (now() - idleSince >= quietMs) return;
  }
}

/**
 * Wait until the page has nothing left to do: `runs` idle callbacks in a row each with nearly a
 * whole idle period (50 ms) left, so background work (the model view's thumbnails) has finished.
 */
export async function pageIdle(runs = 3, timeoutMs = 20000) {
  const start = now();
  let quiet = 0;
  while (quiet < runs && now() - start < timeoutMs) {
    const left = await new Promise((resolve) => requestIdleCallback((deadline) => resolve(deadline.timeRemaining())));
    quiet = left >= 40 ? quiet + 1 : 0;
  }
}

/** The kernel quiet, then the page idle: what every interaction and trace starts from. */
export async function settle(path) {
  await kernelQuiet(path);
  await pageIdle();
}

/** Type `sentence` into the widget's sentence box, press Enter, and time until `marker` is a drawn token. */
export async function enterSentence(path, sentence, marker, timeoutMs = 120000) {
  const root = lastWidget(path);
  root.scrollIntoView({ block: "start" });
  const box = root.querySelector("[data-testid=sentence-input]");
  if (!box) throw new Error("no [data-testid=sentence-input] in the widget");
  box.focus();
  box.value = sentence;
  box.dispatchEvent(new Event("input", { bubbles: true }));
  await frames(2);
  const start = now();
  box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", code: "Enter", bubbles: true, cancelable: true }));
  const drawn = () => tokensOf(root).some((token) => token.textContent.trim() === marker);
  const ms = await paintedAfter(start, drawn, timeoutMs);
  return { ms, startEpoch: epoch(start) };
}

/**
 * Hover and layer changes on the last widget of `path` (see timing.js), once the kernel has been
 * quiet (every layer the page asked for has arrived and been drawn), as a reader looks before
 * pointing: otherwise the samples time the layers arriving, not the interaction.
 */
export async function interact(path, what, count) {
  await settle(path);
  const root = lastWidget(path);
  root.scrollIntoView({ block: "start" });
  await frames(2);
  if (what === "nothing") return doNothing(count);
  return what === "hover" ? hoverTokens(root, count) : changeLayers(root, count);
}
