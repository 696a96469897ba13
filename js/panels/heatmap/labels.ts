// The heatmap's axis labels: token text for short windows, position ticks for long ones.
import { el } from "../../shared/dom";
import { tokenLabel } from "../../shared/format";
import { integerTicks } from "../../shared/scale";
import { LABEL_CHARS, LABEL_SPACING, MAX_LABELS } from "./geometry";

/**
 * The labels of one axis for the window: token text (thinned when cells are
 * small) for up to MAX_LABELS tokens, position ticks beyond that.
 */
export function axisLabels(
  axis: "row" | "col",
  start: number,
  count: number,
  cell: number,
  indices: Int32Array,
  tokens: readonly string[],
  special: readonly boolean[],
  byPosition: Map<number, HTMLElement>,
  band: number,
): HTMLElement[] {
  const place = (label: HTMLElement, position: number, size: number) => {
    const offset = (position - start + 0.5) * cell - size / 2;
    if (axis === "row") {
      label.style.top = `${offset}px`;
      label.style.height = `${size}px`;
      label.style.lineHeight = `${size}px`;
    } else {
      // Rotated a quarter turn about its bottom-left corner: text runs upwards from the plot.
      label.style.left = `${offset + size}px`;
      label.style.width = `${band}px`;
      label.style.height = `${size}px`;
      label.style.lineHeight = `${size}px`;
    }
  };
  if (count > MAX_LABELS) {
    // Position numbers, horizontal, kept inside the axis.
    const length = count * cell;
    const size = axis === "row" ? 14 : 32;
    return integerTicks(start, count, Math.max(2, length / (axis === "row" ? 40 : 64))).map((position) => {
      const label = el("span", { className: "aw-hm-tick-label", text: String(position), title: `token position ${position}` });
      const offset = Math.min(length - size, Math.max(0, (position - start + 0.5) * cell - size / 2));
      if (axis === "row") label.style.cssText = `top:${offset}px;height:${size}px;line-height:${size}px`;
      else label.style.cssText = `left:${offset}px;width:${size}px`;
      return label;
    });
  }
  const step = cell >= LABEL_SPACING ? 1 : Math.ceil(LABEL_SPACING / cell);
  const size = Math.max(cell, LABEL_SPACING);
  const labels: HTMLElement[] = [];
  for (let position = start; position < start + count; position += step) {
    const index = indices[position]!;
    const text = tokens[index] ?? "";
    const label = el("span", {
      className: `aw-hm-label${special[index] ? " is-special" : ""}`,
      testid: axis === "row" ? "heatmap-row-label" : "heatmap-col-label",
      text: tokenLabel(text, LABEL_CHARS),
      title: text,
    });
    label.dataset.axis = axis;
    label.dataset.index = String(index);
    label.style.fontSize = `${Math.min(12, Math.max(9, Math.floor(size) - 2))}px`;
    place(label, position, size);
    byPosition.set(position, label);
    labels.push(label);
  }
  return labels;
}

