import type { View } from "../state/view";
import type { ViewState } from "../state/viewState";

export interface Drawn {
  state: Readonly<ViewState>;
  view: View;
}

/**
 * A panel's repaint plumbing: it remembers what was last drawn, so events of
 * the panel's own (scroll, resize, a toggle) can repaint it, at most once a frame.
 */
export interface Repaint {
  /** What the store last gave the panel, or null before the first draw. */
  readonly last: Drawn | null;
  /** Draw now with new state (the store's call). */
  draw(state: Readonly<ViewState>, view: View): void;
  /** Repaint the last state in the next frame; calls within one frame coalesce. */
  schedule(): void;
  /** Repaint the last state at once (a direct response to the panel's own control). */
  now(): void;
  destroy(): void;
}

export function createRepaint(paint: (state: Readonly<ViewState>, view: View) => void): Repaint {
  let last: Drawn | null = null;
  let frame = 0;
  const run = () => {
    frame = 0;
    if (last) paint(last.state, last.view);
  };
  return {
    get last() {
      return last;
    },
    draw(state, view) {
      last = { state, view };
      paint(state, view);
    },
    schedule() {
      if (frame) return;
      frame = typeof requestAnimationFrame === "function" ? requestAnimationFrame(run) : (setTimeout(run, 16) as unknown as number);
    },
    now() {
      if (last) paint(last.state, last.view);
    },
    destroy() {
      if (frame && typeof cancelAnimationFrame === "function") cancelAnimationFrame(frame);
      frame = 0;
    },
  };
}
