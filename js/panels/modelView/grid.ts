// The model view's grid: head and layer headers, one canvas per layer and a button per thumbnail over it.
import { headColor } from "../../shared/colors";
import { el, setText } from "../../shared/dom";
import { PATTERN_BADGES } from "../../shared/patterns";
import { GAP, HEADER } from "./layout";

export interface ThumbnailGrid {
  canvases: HTMLCanvasElement[];
  /** buttons[layer][head]. */
  buttons: HTMLButtonElement[][];
  layerHeaders: HTMLElement[];
  headHeaders: HTMLElement[];
}

export const emptyGrid: ThumbnailGrid = { canvases: [], buttons: [], layerHeaders: [], headHeaders: [] };

/** Rebuild the grid for nLayers × nHeads thumbnails `size` pixels wide. */
export function buildGrid(grid: HTMLElement, nLayers: number, nHeads: number, size: number): ThumbnailGrid {
  grid.style.gridTemplateColumns = `${HEADER}px repeat(${nHeads}, ${size}px)`;
  grid.style.gap = `${GAP}px`;
  const corner = el("div", { className: "aw-mv-corner", text: "L \\ H", title: "Rows are layers, columns are heads" });
  const headHeaders = Array.from({ length: nHeads }, (_, head) => {
    const header = el("div", { className: "aw-mv-head", text: String(head), title: `Head ${head}` });
    header.style.setProperty("--aw-head-color", headColor(head, nHeads));
    return header;
  });
  const children: HTMLElement[] = [corner, ...headHeaders];
  const layerHeaders: HTMLElement[] = [];
  const canvases: HTMLCanvasElement[] = [];
  const buttons: HTMLButtonElement[][] = [];
  for (let layer = 0; layer < nLayers; layer++) {
    const header = el("div", { className: "aw-mv-layer", text: String(layer), title: `Layer ${layer}` });
    header.style.gridRow = String(layer + 2);
    layerHeaders.push(header);
    const canvas = el("canvas", { className: "aw-mv-canvas", attrs: { "aria-hidden": "true" } });
    canvas.style.gridRow = String(layer + 2);
    canvas.style.gridColumn = "2 / -1";
    canvases.push(canvas);
    const row = Array.from({ length: nHeads }, (_, head) => {
      const button = el("button", {
        className: "aw-mv-thumb",
        testid: "thumbnail",
        attrs: { type: "button", "aria-label": `Layer ${layer}, head ${head}`, "aria-pressed": "false" },
      });
      button.dataset.layer = String(layer);
      button.dataset.head = String(head);
      button.style.gridRow = String(layer + 2);
      button.style.gridColumn = String(head + 2);
      button.style.height = `${size}px`;
      return button;
    });
    buttons.push(row);
    children.push(header, canvas, ...row);
  }
  grid.replaceChildren(...children);
  return { canvases, buttons, layerHeaders, headHeaders };
}

/** Mark the selected layer, its selected heads and their headers. */
export function markSelection(grid: ThumbnailGrid, selectedLayer: number, heads: ReadonlySet<number>, patterns: Map<string, string>): void {
  grid.layerHeaders.forEach((header, layer) => header.classList.toggle("is-current", layer === selectedLayer));
  markPatterns(grid.buttons, patterns);
  grid.headHeaders.forEach((header, head) => header.classList.toggle("is-selected", heads.has(head)));
  grid.buttons.forEach((row, layer) =>
    row.forEach((button, head) => {
      const selected = layer === selectedLayer && heads.has(head);
      button.classList.toggle("is-selected", selected);
      button.classList.toggle("in-layer", layer === selectedLayer);
      button.setAttribute("aria-pressed", String(selected));
    }),
  );
}

/** Badge each thumbnail with its head's pattern from head_stats(); none for "other" or unknown. */
function markPatterns(buttons: HTMLButtonElement[][], patterns: Map<string, string>): void {
  buttons.forEach((row, layer) =>
    row.forEach((button, head) => {
      const pattern = patterns.get(`${layer}:${head}`) ?? "";
      if ((button.dataset.pattern ?? "") === pattern) return;
      button.dataset.pattern = pattern;
      setText(button, PATTERN_BADGES[pattern] ?? "");
    }),
  );
}
