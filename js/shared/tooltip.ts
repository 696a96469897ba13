import { el } from "./dom";

/**
 * A small tooltip inside `container` (which must be positioned): lines of text,
 * set with textContent only, placed next to a point and kept inside the container.
 */
export interface Tooltip {
  readonly element: HTMLElement;
  show(lines: readonly string[], x: number, y: number): void;
  hide(): void;
}

export function createTooltip(container: HTMLElement, testid: string): Tooltip {
  const element = el("div", { className: "aw-tooltip", testid, attrs: { role: "tooltip" } });
  element.hidden = true;
  container.append(element);
  let shown = "";
  return {
    element,
    show(lines, x, y) {
      const text = lines.join("\n");
      if (text !== shown) {
        shown = text;
        element.replaceChildren(...lines.map((line) => el("div", { text: line })));
      }
      element.hidden = false;
      const width = element.offsetWidth;
      const height = element.offsetHeight;
      const room = container.clientWidth;
      // Right of and below the pointer, flipped to the other side near the edge.
      const left = x + 14 + width > room ? Math.max(0, x - 14 - width) : x + 14;
      const top = y + 14 + height > container.clientHeight && y - 14 - height >= 0 ? y - 14 - height : y + 14;
      element.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
    },
    hide() {
      element.hidden = true;
    },
  };
}
