// What the reader does to the neuron view: open it, pick a head, sort, hover a key or a cell.
import { on } from "../../shared/dom";
import type { Drawn } from "../../shared/repaint";
import type { Actions } from "../../state/sync";
import type { NeuronViewDom } from "./dom";
import { cellAt, lineAt } from "./geometry";
import { cellLines, type Shown } from "./tooltip";

/** What the events read from and do to the panel. */
export interface NeuronViewControl {
  last(): Drawn | null;
  /** What is on screen, null while there is nothing to explain. */
  shown(): Shown | null;
  toggleSorted(): void;
}

export function wireNeuronViewEvents(dom: NeuronViewDom, panel: NeuronViewControl, actions: Actions): Array<() => void> {
  const { element, toggle, headSelect, sortButton, labels, numbers, grid, canvas, tooltip } = dom;
  // Hovering a key sets the shared hover, so the head view and the heatmap mark the same key.
  const setHover = (key: number | null) => {
    const hover = panel.last()?.state.hover;
    if (key === null) {
      if (hover) actions.update({ hover: null });
    } else if (hover?.axis !== "col" || hover.index !== key) {
      actions.update({ hover: { axis: "col", index: key } });
    }
  };
  const keyFromEvent = (event: Event): number | null => {
    const line = (event.target as HTMLElement).closest<HTMLElement>("[data-key]");
    return line ? Number(line.dataset.key) : null;
  };
  return [
    on(toggle, "click", () => actions.update({ neuronOpen: !(panel.last()?.state.neuronOpen ?? false) })),
    on(sortButton, "click", () => panel.toggleSorted()),
    on(headSelect, "change", () => actions.update({ heads: [Number(headSelect.value)] })),
    on(labels, "mouseover", (event) => setHover(keyFromEvent(event))),
    on(numbers, "mouseover", (event) => setHover(keyFromEvent(event))),
    on(grid, "mouseleave", () => {
      tooltip.hide();
      setHover(null);
    }),
    on(canvas, "mousemove", (event) => {
      const shown = panel.shown();
      if (!shown) return;
      const box = canvas.getBoundingClientRect();
      const x = event.clientX - box.left;
      const y = event.clientY - box.top;
      const line = lineAt(y);
      const cell = cellAt(shown.queries.dHead, x);
      const key = line >= 0 ? shown.layout.lines[line]?.key : undefined;
      setHover(key ?? null);
      if (!cell) return tooltip.hide();
      const host = element.getBoundingClientRect();
      tooltip.show(cellLines(shown, line, cell.dim), event.clientX - host.left, event.clientY - host.top);
    }),
  ];
}
