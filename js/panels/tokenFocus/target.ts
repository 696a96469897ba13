// Which token the panel is about, and on which axis: state only, no DOM.
import type { StackData } from "../../data/attention";
import type { View } from "../../state/view";
import type { Direction, Hover, ViewState } from "../../state/viewState";

export type Axis = "row" | "col";

/** Self-attention: rows and columns are the same tokens, so a token index means the same on both axes. */
export function isSelfAttention(stack: StackData): boolean {
  if (stack.name === "cross" || stack.nRows !== stack.nCols) return false;
  return stack.rows === stack.cols || stack.rows.every((token, i) => token === stack.cols[i]);
}

export function axisOf(direction: Direction): Axis {
  return direction === "attends_to" ? "row" : "col";
}

export interface FocusTarget {
  /** Stack index of the token on `axis`. */
  index: number;
  axis: Axis;
  /** Its position among the visible rows (axis "row") or columns. */
  position: number;
  /** Shown because it is hovered, not because it was clicked. */
  preview: boolean;
}

/**
 * The token the panel is about: the hovered one (a preview) or else the focus
 * token, on the axis of the direction ("attends to" reads its row, "attended
 * by" its column). A token on the other axis maps to the same index in
 * self-attention; in cross-attention it has no counterpart. `ignoredHover` is
 * a hover that must not preview: one this panel set from its own bars (the list
 * must not change under the pointer), or one older than the last focus change
 * (after a click or an arrow key the focus shows until the pointer moves on).
 */
export function focusTarget(state: Readonly<ViewState>, view: View, ignoredHover: Hover | null = null): FocusTarget | { hint: string } {
  const stack = view.stack;
  if (!stack) return { hint: "No attention to show." };
  const axis = axisOf(state.direction);
  const self = isSelfAttention(stack);
  const hover = state.hover && !sameHover(state.hover, ignoredHover) ? state.hover : null;
  const candidates: Array<{ index: number; axis: Axis; preview: boolean }> = [];
  if (hover) candidates.push({ index: hover.index, axis: hover.axis, preview: true });
  if (state.focus !== null) candidates.push({ index: state.focus, axis, preview: false });
  for (const candidate of candidates) {
    if (candidate.axis !== axis && !self) continue; // a decoder token has no column in cross-attention
    const position = axis === "row" ? view.visibleRow(candidate.index) : view.visibleCol(candidate.index);
    if (position < 0) {
      if (candidate.preview) continue;
      return { hint: "The focus token is hidden by the current filter: click a visible token." };
    }
    return { index: candidate.index, axis, position, preview: candidate.preview };
  }
  return { hint: "Click a token to focus it." };
}

export function sameHover(a: Hover | null, b: Hover | null): boolean {
  return a !== null && b !== null && a.axis === b.axis && a.index === b.index;
}
