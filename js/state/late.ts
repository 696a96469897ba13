/** How long an answer from the kernel may take before the page shows that it is waiting. */
export const LATE_MS = 150;

/** How long a request may go unanswered before the page says no kernel is behind it. */
export const NO_ANSWER_MS = 4000;

export interface LateTimer {
  /** A request went out (or Python said it is busy): arm the timer unless it is armed. */
  start(): void;
  /** The answer came: disarm, so a waiting state is never drawn for it. */
  stop(): void;
}

/**
 * Calls `onLate` only if a request is still unanswered `delayMs` after it started.
 * Most answers come sooner (a 16-token re-run takes about 40 ms in the kernel), and
 * drawing a "pending" state for them cost a repaint and, in JupyterLab, a compositor
 * commit of the whole page before the answer could even be handled.
 */
export function lateTimer(delayMs: number, onLate: () => void): LateTimer {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return {
    start() {
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        onLate();
      }, delayMs);
    },
    stop() {
      if (timer === null) return;
      clearTimeout(timer);
      timer = null;
    },
  };
}
