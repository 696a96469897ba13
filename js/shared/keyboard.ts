import type { Actions } from "../state/sync";
import type { View } from "../state/view";
import type { ViewState } from "../state/viewState";

/** ←/→ move the focus token, ↑/↓ the layer; typing in a box is left alone. */
export function handleKey(event: KeyboardEvent, state: Readonly<ViewState>, view: View, actions: Actions): void {
  const target = event.target as HTMLElement;
  if (target.closest("input, select, textarea, button") || !view.stack || !view.current) return;
  if (event.key === "ArrowUp" || event.key === "ArrowDown") {
    const layer = state.layer + (event.key === "ArrowDown" ? 1 : -1);
    if (layer >= 0 && layer < view.stack.nLayers) actions.update({ layer });
  } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
    const byRow = state.direction === "attends_to";
    const visible = byRow ? view.current.rows : view.current.cols;
    if (visible.length === 0) return;
    const position = state.focus === null ? -1 : byRow ? view.visibleRow(state.focus) : view.visibleCol(state.focus);
    const step = event.key === "ArrowRight" ? 1 : -1;
    const next = position < 0 ? (step > 0 ? 0 : visible.length - 1) : Math.min(visible.length - 1, Math.max(0, position + step));
    actions.update({ focus: visible[next]! });
  } else if (event.key === "Escape") {
    actions.update({ focus: null, hover: null });
  } else {
    return;
  }
  event.preventDefault();
}
