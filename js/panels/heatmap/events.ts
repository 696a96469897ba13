// What the reader does to the heatmap: hover and click cells or labels, wheel to zoom, drag to pan.
import { on } from "../../shared/dom";
import type { CellWindow } from "../../shared/raster";
import type { Actions } from "../../state/sync";
import type { LayerView } from "../../state/view";
import type { Hover } from "../../state/viewState";
import type { HeatmapDom } from "./dom";
import { cellAt, zoomAround, sameWindow, type HeatmapLayout } from "./geometry";

type Cell = { r: number; c: number };

/** What the events read from and do to the panel. */
export interface HeatmapControl {
  layer(): LayerView | null;
  layout(): HeatmapLayout;
  zoom(): CellWindow | null;
  window(): CellWindow;
  zoomable(): boolean;
  setZoom(next: CellWindow | null): void;
  /** The cell under the pointer, null when it is not over the plot. */
  pointer(): Cell | null;
  /** The cell under the pointer changed; redraws the overlay only. */
  point(cell: Cell | null): void;
  showTooltip(cell: Cell, x: number, y: number): void;
  hover(): Hover | null;
}

export function wireHeatmapEvents(dom: HeatmapDom, panel: HeatmapControl, actions: Actions): Array<() => void> {
  const { plot, figure } = dom;
  let drag: { x: number; y: number; window: CellWindow; moved: boolean; id: number } | null = null;
  const pointIn = (event: MouseEvent) => {
    const rect = plot.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };
  const cellUnder = (event: MouseEvent) => {
    const { x, y } = pointIn(event);
    const layout = panel.layout();
    return { x, y, cell: cellAt(panel.window(), layout.plotWidth, layout.plotHeight, x, y) };
  };
  const setHover = (hover: Hover | null) => {
    const now = panel.hover();
    if (hover === null ? now !== null : now?.axis !== hover.axis || now.index !== hover.index) actions.update({ hover });
  };
  const zoomBy = (factor: number) => {
    const layer = panel.layer();
    if (layer) panel.setZoom(zoomAround(panel.window(), layer.rows.length, layer.cols.length, factor, 0.5, 0.5));
  };

  /** Pan the zoomed window with the drag; true when the move was a pan. */
  const pan = (event: PointerEvent, layer: LayerView): boolean => {
    if (!drag) return false;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    const zoom = panel.zoom();
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) > 4) {
      drag.moved = true;
      if (zoom) plot.setPointerCapture?.(drag.id);
    }
    if (!drag.moved || !zoom) return false;
    const { window } = drag;
    const layout = panel.layout();
    const r0 = Math.min(layer.rows.length - window.rows, Math.max(0, Math.round(window.r0 - (dy / layout.plotHeight) * window.rows)));
    const c0 = Math.min(layer.cols.length - window.cols, Math.max(0, Math.round(window.c0 - (dx / layout.plotWidth) * window.cols)));
    if (r0 !== zoom.r0 || c0 !== zoom.c0) panel.setZoom({ ...window, r0, c0 });
    dom.tooltip.hide();
    return true;
  };

  return [
    on(plot, "pointerdown", (event) => {
      if (event.button === 0) drag = { x: event.clientX, y: event.clientY, window: panel.window(), moved: false, id: event.pointerId };
    }),
    on(plot, "pointermove", (event) => {
      const layer = panel.layer();
      if (!layer || pan(event, layer)) return;
      const { x, y, cell } = cellUnder(event);
      if (!cell) return;
      const pointer = panel.pointer();
      if (!pointer || pointer.r !== cell.r || pointer.c !== cell.c) panel.point(cell);
      panel.showTooltip(cell, x, y);
      setHover({ axis: "row", index: layer.rows[cell.r]! });
    }),
    on(plot, "pointerup", (event) => {
      const started = drag;
      drag = null;
      if (started && plot.hasPointerCapture?.(started.id)) plot.releasePointerCapture(started.id);
      const layer = panel.layer();
      // A click is a press and release here without a pan in between.
      if (!started || started.moved || !layer) return;
      const { cell } = cellUnder(event);
      if (cell) actions.update({ focus: layer.rows[cell.r]!, direction: "attends_to" });
    }),
    on(plot, "pointerleave", () => {
      if (drag?.moved) return;
      panel.point(null);
      dom.tooltip.hide();
      setHover(null);
    }),
    on(
      plot,
      "wheel",
      (event) => {
        const layer = panel.layer();
        if (!layer || !panel.zoomable()) return;
        const unit = event.deltaMode === 1 ? 0.05 : event.deltaMode === 2 ? 1 : 0.002;
        const factor = Math.exp(-Math.max(-200, Math.min(200, event.deltaY)) * unit);
        const { x, y } = pointIn(event);
        const layout = panel.layout();
        const current = panel.window();
        const next = zoomAround(current, layer.rows.length, layer.cols.length, factor, x / layout.plotWidth, y / layout.plotHeight);
        if (sameWindow(next, current)) return; // fully zoomed out (or in): let the page scroll
        event.preventDefault();
        panel.setZoom(next);
        const { cell } = cellUnder(event);
        if (cell) {
          panel.point(cell);
          panel.showTooltip(cell, x, y);
        }
      },
      { passive: false },
    ),
    on(dom.zoomIn, "click", () => zoomBy(2)),
    on(dom.zoomOut, "click", () => zoomBy(0.5)),
    on(dom.reset, "click", () => panel.setZoom(null)),
    on(figure, "mouseover", (event) => {
      const label = (event.target as HTMLElement).closest<HTMLElement>("[data-axis]");
      if (label) setHover({ axis: label.dataset.axis === "col" ? "col" : "row", index: Number(label.dataset.index) });
    }),
    on(figure, "mouseleave", () => setHover(null)),
    on(figure, "click", (event) => {
      const label = (event.target as HTMLElement).closest<HTMLElement>("[data-axis]");
      if (!label) return;
      actions.update({ focus: Number(label.dataset.index), direction: label.dataset.axis === "col" ? "attended_by" : "attends_to" });
    }),
  ];
}
