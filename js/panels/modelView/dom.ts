// The model view's elements, built once; the grid inside is rebuilt by grid.ts.
import { el } from "../../shared/dom";
import { panelTitle } from "../../shared/snapshot";
import { createTooltip, type Tooltip } from "../../shared/tooltip";

export interface ModelViewDom {
  element: HTMLElement;
  caption: HTMLElement;
  grid: HTMLElement;
  scroller: HTMLElement;
  tooltip: Tooltip;
}

export function createModelViewDom(): ModelViewDom {
  const caption = el("div", { className: "aw-panel-caption", testid: "model-view-caption" });
  const grid = el("div", { className: "aw-mv-grid", attrs: { role: "group", "aria-label": "Layers and heads" } });
  const scroller = el("div", { className: "aw-mv-scroll" }, [grid]);
  const element = el("section", { className: "aw-panel aw-model-view", testid: "model-view" }, [
    panelTitle("Model view"),
    caption,
    scroller,
  ]);
  const tooltip = createTooltip(element, "model-view-tooltip");
  return { element, caption, grid, scroller, tooltip };
}
