import { el } from "../shared/dom";
import { missingLayerText, shape } from "../shared/format";
import type { Panel } from "../shared/panel";

/**
 * The status line (loading, notes such as truncation), the error from the last
 * failed run, and a compact info line: model, tokens, layers, heads, shapes.
 */
export function createStatus(): Panel {
  const spinner = el("span", { className: "aw-spinner", attrs: { "aria-hidden": "true" } });
  const statusText = el("span");
  const status = el("div", { className: "aw-status", testid: "status", attrs: { role: "status", "aria-live": "polite" } }, [spinner, statusText]);
  const error = el("div", { className: "aw-error", testid: "error", attrs: { role: "alert" } });
  const info = el("div", { className: "aw-info", testid: "info" });
  const element = el("div", { className: "aw-statusbar" }, [status, error, info]);

  return {
    element,
    draw(state, view) {
      const loading = state.pending || state.busy;
      element.classList.toggle("is-loading", loading);
      const layerMissing = view.current !== null && !view.current.ready;
      const messages = [
        ...(loading ? ["Running the model…"] : layerMissing ? [missingLayerText(state.layer, state.layersUnanswered)] : []),
        ...state.notes,
      ];
      statusText.textContent = messages.join(" · ");
      status.hidden = messages.length === 0;

      const problems = [state.error, state.notice].filter((text) => text !== "");
      error.textContent = problems.join(" · ");
      error.hidden = problems.length === 0;

      const stack = view.stack;
      if (!stack) {
        info.textContent = "";
        return;
      }
      const tokens = stack.nRows === stack.nCols ? `${stack.nRows} tokens` : `${stack.nRows} × ${stack.nCols} tokens`;
      const parts = [
        state.model || "your tensors",
        tokens,
        `${stack.nLayers} layers × ${stack.nHeads} heads`,
        ...Object.entries(state.shapes).map(([name, dims]) => `${name} ${shape(dims)}`),
      ];
      if (state.hideSpecial) parts.push("special tokens hidden, rows renormalised over the visible tokens");
      info.textContent = parts.join(" · ");
      info.title = info.textContent;
    },
    destroy() {},
  };
}
