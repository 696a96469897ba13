// The head view's two token columns: labels as DOM text, only those near the viewport.
import { el } from "../../shared/dom";
import { tokenLabel } from "../../shared/format";
import { ROW_HEIGHT } from "./layout";

/** Token labels are 12 px monospace: about this wide per character, plus padding. */
const CHAR_WIDTH = 7.3;
const LABEL_PADDING = 12;
const MAX_LABEL_WIDTH = 140;

/** Wide enough for the longest label shown, so labels are not clipped (long ones end in "…"). */
export function labelWidth(indices: Int32Array, labels: readonly string[]): number {
  let longest = 1;
  for (const index of indices) longest = Math.max(longest, tokenLabel(labels[index] ?? "").length);
  return Math.min(MAX_LABEL_WIDTH, Math.ceil(longest * CHAR_WIDTH + LABEL_PADDING));
}

/**
 * Keep only the labels in the window in the DOM, so long inputs stay light, and
 * reuse the ones already there: a hover must not replace the element under the pointer.
 */
export function renderLabels(
  column: HTMLElement,
  indices: Int32Array,
  labels: readonly string[],
  special: readonly boolean[],
  axis: "row" | "col",
  [from, to]: [number, number],
  marked: (axis: "row" | "col", index: number) => string,
): void {
  const existing = new Map<string, HTMLElement>();
  for (const child of Array.from(column.children) as HTMLElement[]) existing.set(`${child.dataset.index}@${child.style.top}`, child);
  const wanted: HTMLElement[] = [];
  for (let position = Math.max(0, from); position < Math.min(to, indices.length); position++) {
    const index = indices[position]!;
    const top = `${position * ROW_HEIGHT}px`;
    const key = `${index}@${top}`;
    let label = existing.get(key);
    const text = labels[index] ?? "";
    if (!label || label.title !== text) {
      label = el("span", { testid: "token", text: tokenLabel(text), title: text });
      label.dataset.axis = axis;
      label.dataset.index = String(index);
      label.style.top = top;
    }
    const classes = ["aw-token", special[index] ? "is-special" : "", marked(axis, index)].filter(Boolean).join(" ");
    if (label.className !== classes) label.className = classes;
    wanted.push(label);
  }
  const keep = new Set(wanted);
  for (const child of Array.from(column.children)) if (!keep.has(child as HTMLElement)) child.remove();
  for (const label of wanted) if (label.parentElement !== column) column.append(label);
}
