// What the reader does to the head view: scroll, hover a token, click one to focus it.
import { on } from "../../shared/dom";
import type { Actions } from "../../state/sync";
import type { Hover } from "../../state/viewState";
import type { HeadViewDom } from "./dom";

/** What the events read from and do to the panel. */
export interface HeadViewControl {
  /** The hover as last drawn. */
  hover(): Hover | null;
  scrolled(scrollTop: number): void;
}

export function wireHeadViewEvents(dom: HeadViewDom, panel: HeadViewControl, actions: Actions): Array<() => void> {
  const { scroller, body } = dom;
  const hoverFrom = (event: Event): Hover | null => {
    const target = (event.target as HTMLElement).closest<HTMLElement>("[data-testid=token]");
    if (!target) return null;
    return { axis: target.dataset.axis === "col" ? "col" : "row", index: Number(target.dataset.index) };
  };
  return [
    on(scroller, "scroll", () => panel.scrolled(scroller.scrollTop), { passive: true }),
    on(body, "mouseover", (event) => {
      const hover = hoverFrom(event);
      const current = panel.hover();
      if (hover && (hover.axis !== current?.axis || hover.index !== current.index)) actions.update({ hover });
    }),
    on(body, "mouseleave", () => actions.update({ hover: null })),
    on(body, "click", (event) => {
      const hover = hoverFrom(event);
      if (!hover) return;
      actions.update({ focus: hover.index, direction: hover.axis === "row" ? "attends_to" : "attended_by" });
    }),
  ];
}
