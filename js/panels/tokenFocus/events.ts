// What the reader does to the token-focus panel: switch direction, hover and click bars, expand the list, pick a layer in the strip.
import { on } from "../../shared/dom";
import type { Drawn } from "../../shared/repaint";
import type { Actions } from "../../state/sync";
import type { Direction, Hover } from "../../state/viewState";
import type { TokenFocusDom } from "./dom";
import { isSelfAttention } from "./target";

/** What the events read from and do to the panel. */
export interface TokenFocusControl {
  last(): Drawn | null;
  /** A hover set from the panel's own bars, which must not preview (the list must not change under the pointer). */
  setOwnHover(hover: Hover | null): void;
  toggleExpanded(): void;
  /** The layer of the strip row under the pointer, or null. */
  layerAt(event: MouseEvent): number | null;
}

export function wireTokenFocusEvents(dom: TokenFocusDom, panel: TokenFocusControl, actions: Actions): Array<() => void> {
  const { toggle, list, more, strip } = dom;
  const barFrom = (event: Event) => (event.target as HTMLElement).closest<HTMLElement>("[data-testid=focus-bar]");
  return [
    on(toggle, "click", (event) => {
      const target = (event.target as HTMLElement).closest<HTMLElement>("[data-direction]");
      const last = panel.last();
      if (!target || !last) return;
      const direction = target.dataset.direction as Direction;
      if (direction === last.state.direction) return;
      const stack = last.view.stack;
      // A cross-attention focus token is a decoder row: it has no column to switch to.
      if (stack && !isSelfAttention(stack) && last.state.focus !== null) actions.update({ direction, focus: null });
      else actions.update({ direction });
    }),
    on(list, "mouseover", (event) => {
      const bar = barFrom(event);
      if (!bar) return;
      const hover: Hover = { axis: bar.dataset.axis === "row" ? "row" : "col", index: Number(bar.dataset.index) };
      panel.setOwnHover(hover);
      const current = panel.last()?.state.hover;
      if (current?.axis !== hover.axis || current.index !== hover.index) actions.update({ hover });
    }),
    on(list, "mouseleave", () => {
      panel.setOwnHover(null);
      if (panel.last()?.state.hover) actions.update({ hover: null });
    }),
    on(list, "click", (event) => {
      const bar = barFrom(event);
      const stack = panel.last()?.view.stack;
      if (!bar || !stack) return;
      const index = Number(bar.dataset.index);
      const axis = bar.dataset.axis === "row" ? "row" : "col";
      panel.setOwnHover(null);
      // In self-attention keep reading the same way; in cross-attention a column token can only be "attended by".
      if (isSelfAttention(stack)) actions.update({ focus: index, hover: null });
      else actions.update({ focus: index, direction: axis === "row" ? "attends_to" : "attended_by", hover: null });
    }),
    on(more, "click", () => panel.toggleExpanded()),
    on(strip, "click", (event) => {
      const layer = panel.layerAt(event);
      if (layer !== null) actions.update({ layer });
    }),
    on(strip, "mousemove", (event) => {
      const layer = panel.layerAt(event);
      strip.title = layer === null ? "" : `Layer ${layer}: click to show it`;
    }),
  ];
}
