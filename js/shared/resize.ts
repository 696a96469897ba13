/** An element's width or height as the ResizeObserver last reported it. */
export interface SizeWatch {
  /** The last size seen, in CSS pixels; 0 until the first report (and where there is no ResizeObserver). */
  readonly size: number;
  disconnect(): void;
}

/**
 * Watches one side of an element's content box and calls `changed` when it moves by a
 * pixel or more. Panels read sizes from here, never in a draw: reading clientWidth there
 * forces a layout of the notebook after the other panels' writes. An empty box (the panel
 * hidden) keeps the last size.
 */
export function watchSize(element: Element, side: "width" | "height", changed: () => void): SizeWatch {
  let size = 0;
  const observer =
    typeof ResizeObserver === "function"
      ? new ResizeObserver((entries) => {
          const next = entries[entries.length - 1]?.contentRect[side] ?? 0;
          if (next <= 0 || Math.abs(next - size) < 1) return;
          size = next;
          changed();
        })
      : null;
  observer?.observe(element);
  return {
    get size() {
      return size;
    },
    disconnect: () => observer?.disconnect(),
  };
}
