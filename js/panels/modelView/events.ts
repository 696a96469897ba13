// What the reader does to the model view: click a thumbnail to show it, hover or focus one to name it.
import { on } from "../../shared/dom";
import type { Actions } from "../../state/sync";
import type { ModelViewDom } from "./dom";

export function wireModelViewEvents(dom: ModelViewDom, actions: Actions): Array<() => void> {
  const { element, grid, scroller, tooltip } = dom;
  const thumbFrom = (event: Event) => (event.target as HTMLElement).closest<HTMLButtonElement>("[data-testid=thumbnail]");
  const showTip = (button: HTMLElement) => {
    const box = button.getBoundingClientRect();
    const host = element.getBoundingClientRect();
    const pattern = button.dataset.pattern ? ` · ${button.dataset.pattern}` : "";
    tooltip.show([`layer ${button.dataset.layer} · head ${button.dataset.head}${pattern}`], box.left - host.left + box.width / 2 - 14, box.bottom - host.top - 14);
  };
  return [
    on(grid, "click", (event) => {
      const button = thumbFrom(event);
      if (!button) return;
      actions.update({ layer: Number(button.dataset.layer), heads: [Number(button.dataset.head)] });
    }),
    on(grid, "mouseover", (event) => {
      const button = thumbFrom(event);
      if (button) showTip(button);
      else tooltip.hide();
    }),
    on(grid, "mouseleave", () => tooltip.hide()),
    on(grid, "focusin", (event) => {
      const button = thumbFrom(event);
      if (button) showTip(button);
    }),
    on(grid, "focusout", () => tooltip.hide()),
    on(scroller, "scroll", () => tooltip.hide(), { passive: true }),
  ];
}
