// The neuron view's columns: key labels and numbers as DOM text, q, k and q⊙k as canvas cells.
import type { HeadQueries } from "../../data/queries";
import { prepareCanvas } from "../../shared/canvas";
import { signedColor, weightColormap, type Theme } from "../../shared/colors";
import { el } from "../../shared/dom";
import { percent, precise, tokenLabel } from "../../shared/format";
import { BLOCK_GAP, cellWidth, LINE } from "./geometry";
import type { NeuronLayout } from "./layout";

export function drawLabels(column: HTMLElement, layout: NeuronLayout, tokens: readonly string[], queryToken: string): void {
  const query = el("div", { className: "aw-nv-line aw-nv-query", text: `q · ${tokenLabel(queryToken, 16)}`, title: queryToken });
  const keys = layout.lines.map((line) =>
    el("div", { className: "aw-nv-line", testid: "neuron-key", text: tokenLabel(tokens[line.key] ?? "", 16), title: tokens[line.key] ?? "", attrs: { "data-key": String(line.key) } }),
  );
  column.replaceChildren(query, ...keys);
}

export function drawNumbers(column: HTMLElement, layout: NeuronLayout, theme: Theme): void {
  const colormap = weightColormap(theme);
  const header = el("div", { className: "aw-nv-line aw-nv-head" }, [
    el("span", { text: "q·k" }),
    el("span", { text: "score" }),
    el("span", { text: "weight" }),
  ]);
  const rows = layout.lines.map((line) => {
    const bar = el("span", { className: "aw-nv-bar" });
    bar.style.width = `${Math.round(line.weight * 60)}px`;
    bar.style.background = colormap(0.35 + 0.65 * line.weight);
    return el(
      "div",
      {
        className: line.masked ? "aw-nv-line is-masked" : "aw-nv-line",
        testid: "neuron-score",
        attrs: { "data-key": String(line.key), "data-dot": String(line.dot), "data-score": String(line.score), "data-weight": String(line.weight) },
      },
      [
        el("span", { testid: "neuron-dot", text: precise(line.dot) }),
        el("span", { text: line.masked ? "masked" : precise(line.score) }),
        el("span", { className: "aw-nv-weight" }, [bar, el("span", { text: percent(line.weight) })]),
      ],
    );
  });
  column.replaceChildren(header, ...rows);
}

export function drawCells(canvas: HTMLCanvasElement, layout: NeuronLayout, queries: HeadQueries, theme: Theme): void {
  const cell = cellWidth(queries.dHead);
  const blockWidth = cell * queries.dHead;
  const width = blockWidth * 2 + BLOCK_GAP;
  const height = LINE * (layout.lines.length + 1);
  const context = prepareCanvas(canvas, width, height);
  if (!context) return;
  const q = queries.query(layout.row);
  const paintVector = (values: (d: number) => number, max: number, x0: number, line: number) => {
    for (let d = 0; d < queries.dHead; d++) {
      context.fillStyle = signedColor(values(d), max);
      context.fillRect(x0 + d * cell, line * LINE + 1, cell - (cell > 4 ? 1 : 0), LINE - 2);
    }
  };
  paintVector((d) => q[d]!, layout.vectorMax, 0, 0);
  context.fillStyle = theme.muted;
  context.font = "11px sans-serif";
  context.textBaseline = "middle";
  context.fillText("← q of the query · below: k, then q⊙k, per key", blockWidth + BLOCK_GAP, LINE / 2);
  layout.lines.forEach((line, index) => {
    const k = queries.key(line.key);
    paintVector((d) => k[d]!, layout.vectorMax, 0, index + 1);
    paintVector((d) => q[d]! * k[d]!, layout.productMax, blockWidth + BLOCK_GAP, index + 1);
  });
}

/** Mark the hovered key's label and numbers. */
export function markHover(columns: HTMLElement[], hovered: number): void {
  for (const column of columns) {
    for (const line of column.querySelectorAll<HTMLElement>("[data-key]")) line.classList.toggle("is-hover", Number(line.dataset.key) === hovered);
  }
}
