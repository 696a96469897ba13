// The neuron view panel: composes query (which row it explains), layout (the numbers), geometry,
// draw (labels, numbers, cells), tooltip, dom and events.
import { setOptions, setText } from "../../shared/dom";
import type { Panel, PanelContext } from "../../shared/panel";
import { createRepaint } from "../../shared/repaint";
import { neuronHead } from "../../state/queries";
import type { View } from "../../state/view";
import type { ViewState } from "../../state/viewState";
import { createNeuronViewDom } from "./dom";
import { drawCells, drawLabels, drawNumbers, markHover } from "./draw";
import { wireNeuronViewEvents } from "./events";
import { neuronLayout } from "./layout";
import { captionText, queryRow, rolloutNote } from "./query";
import type { Shown } from "./tooltip";

/**
 * The neuron view: for the focus token, its query, every key, q⊙k per dimension
 * as coloured cells, and per key the dot product, the scaled score and the
 * softmax weight. A draw is a pipeline: the controls → the query row and its
 * queries (state) → `neuronLayout` → labels, numbers and cells, only when what
 * they show changed → the hover marks.
 */
export function createNeuronView(context: PanelContext): Panel {
  const dom = createNeuronViewDom();
  let sorted = false;
  let shown: Shown | null = null;
  let drawnKey = "";
  const repaint = createRepaint(paint);
  const cleanups = wireNeuronViewEvents(
    dom,
    {
      last: () => repaint.last,
      shown: () => shown,
      toggleSorted() {
        sorted = !sorted;
        drawnKey = "";
        repaint.now();
      },
    },
    context.actions,
  );

  function paint(state: Readonly<ViewState>, view: View): void {
    const { toggle, headSelect, sortButton, body, caption, scroller } = dom;
    const open = state.neuronOpen;
    setText(toggle, open ? "Hide" : "Show queries and keys");
    toggle.setAttribute("aria-expanded", String(open));
    body.hidden = !open;
    if (!open) return;
    const stack = view.stack;
    const nHeads = stack?.nHeads ?? 0;
    setOptions(headSelect, Array.from({ length: nHeads }, (_, head) => ({ value: String(head), label: `head ${head}` })));
    const head = neuronHead(state);
    headSelect.value = String(head);
    setText(sortButton, sorted ? "Sorted by weight" : "In token order");
    sortButton.setAttribute("aria-pressed", String(sorted));

    const row = queryRow(state, view);
    const queries = state.queries;
    const ready =
      queries !== null &&
      queries.version === state.data?.version &&
      queries.stack === state.stack &&
      queries.layer === state.layer &&
      queries.head === head &&
      typeof row === "number" &&
      row < queries.rows;
    if (state.queriesError || typeof row === "string" || !ready || !queries || !stack) {
      setText(caption, state.queriesError || (typeof row === "string" ? row : `Loading the queries and keys of layer ${state.layer}, head ${head}…`));
      scroller.hidden = true;
      shown = null;
      drawnKey = "";
      return;
    }
    scroller.hidden = false;
    const cols = view.current?.cols ?? Int32Array.from({ length: queries.cols }, (_, i) => i);
    const theme = context.theme();
    const key = [queries.version, queries.stack, queries.layer, queries.head, row, sorted, cols.length, state.hideSpecial, state.pairFilter, theme.dark].join("|");
    if (key !== drawnKey) {
      drawnKey = key;
      const layout = neuronLayout(queries, row, cols, sorted);
      shown = { layout, queries, tokens: stack.cols, queryToken: stack.rows[row] ?? "" };
      setText(caption, captionText(queries, stack.rows[row] ?? "", state.layer) + rolloutNote(state));
      drawLabels(dom.labels, shown.layout, shown.tokens, shown.queryToken);
      drawNumbers(dom.numbers, shown.layout, theme);
      drawCells(dom.canvas, shown.layout, queries, theme);
    }
    markHover([dom.labels, dom.numbers], state.hover?.axis === "col" ? state.hover.index : -1);
  }

  return {
    element: dom.element,
    draw: repaint.draw,
    destroy() {
      repaint.destroy();
      cleanups.forEach((cleanup) => cleanup());
    },
  };
}
