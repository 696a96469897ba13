// What the heatmap's tooltip says about the cell under the pointer.
import { percent, precise, tokenLabel } from "../../shared/format";
import type { CellWindow } from "../../shared/raster";
import type { LayerView, View } from "../../state/view";
import type { HeatmapCells } from "./cells";
import type { HeatmapLayout } from "./geometry";

/** What the tooltip says about one visible cell. */
export function tooltipLines(
  layer: LayerView,
  view: View,
  cell: { r: number; c: number },
  cells: HeatmapCells | null,
  mask: Int32Array | null,
  window: CellWindow,
  layout: HeatmapLayout,
): string[] {
  const stack = view.stack!;
  const lines = [
    `from: ${tokenLabel(stack.rows[layer.rows[cell.r]!] ?? "", 40)}  (#${cell.r})`,
    `to: ${tokenLabel(stack.cols[layer.cols[cell.c]!] ?? "", 40)}  (#${cell.c})`,
  ];
  if (mask && cell.c >= mask[cell.r]!) {
    lines.push("masked: a token cannot attend to later tokens");
  } else if (cells) {
    const weight = cells.long ? cells.long.valueAt(cell.r, cell.c) : cells.values[cell.r * cells.cols + cell.c]!;
    lines.push(`weight: ${percent(weight)}  (${precise(weight)})`);
  } else {
    lines.push(layer.ready ? "no head selected" : "loading…");
  }
  if (window.rows > layout.plotHeight || window.cols > layout.plotWidth) lines.push("several tokens per pixel: zoom in for single cells");
  return lines;
}
