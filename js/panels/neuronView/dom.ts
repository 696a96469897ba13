// The neuron view's elements, built once: a toggle, the head and sort controls, and three columns.
import { el } from "../../shared/dom";
import { createTooltip, type Tooltip } from "../../shared/tooltip";

export interface NeuronViewDom {
  element: HTMLElement;
  toggle: HTMLButtonElement;
  headSelect: HTMLSelectElement;
  sortButton: HTMLButtonElement;
  body: HTMLElement;
  caption: HTMLElement;
  scroller: HTMLElement;
  grid: HTMLElement;
  labels: HTMLElement;
  numbers: HTMLElement;
  canvas: HTMLCanvasElement;
  tooltip: Tooltip;
}

export function createNeuronViewDom(): NeuronViewDom {
  const toggle = el("button", { className: "aw-nv-button", testid: "neuron-toggle", attrs: { type: "button", "aria-expanded": "false" } });
  const headSelect = el("select", { testid: "neuron-head", attrs: { "aria-label": "Head" } });
  const sortButton = el("button", { className: "aw-nv-button", testid: "neuron-sort", attrs: { type: "button", "aria-pressed": "false" } });
  const caption = el("div", { className: "aw-panel-caption", testid: "neuron-caption" });
  const labels = el("div", { className: "aw-nv-labels" });
  const canvas = el("canvas", { className: "aw-nv-cells", testid: "neuron-cells" });
  const numbers = el("div", { className: "aw-nv-numbers" });
  const grid = el("div", { className: "aw-nv-grid" }, [labels, numbers, canvas]);
  const scroller = el("div", { className: "aw-nv-scroll" }, [grid]);
  const body = el("div", { className: "aw-nv-body" }, [el("div", { className: "aw-nv-tools" }, [headSelect, sortButton]), caption, scroller]);
  const element = el("section", { className: "aw-panel aw-neuron-view", testid: "neuron-view" }, [
    el("div", { className: "aw-nv-header" }, [el("h3", { className: "aw-panel-title", text: "Neuron view: queries and keys" }), toggle]),
    body,
  ]);
  const tooltip = createTooltip(element, "neuron-tooltip");
  return { element, toggle, headSelect, sortButton, body, caption, scroller, grid, labels, numbers, canvas, tooltip };
}
