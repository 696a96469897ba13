// Work done in short slices while the browser is idle, so a hover or layer change never waits behind it.

/**
 * Milliseconds of thumbnail work per slice at most. An idle period can last 50 ms, and input
 * that arrives meanwhile waits for the slice to end: a slice stays short whatever the deadline.
 */
const FRAME_BUDGET = 8;
/** An idle slice stops with this much of the browser's idle time left, so the next frame starts on time. */
const IDLE_MARGIN = 1;
/** Thumbnails wait at most this long for idle time when the page never rests. */
const IDLE_TIMEOUT = 500;

export interface BackgroundTask {
  /** Run the work in the browser's next idle time, unless it is already waiting. */
  request(): void;
  cancel(): void;
}

/**
 * Work done in short slices when the browser is idle (`requestIdleCallback`; a 0 ms timeout
 * where there is none), each within FRAME_BUDGET. `work(timeLeft)` returns true while unfinished.
 */
export function createBackgroundTask(work: (timeLeft: () => boolean) => boolean): BackgroundTask {
  let handle: number | null = null;
  const idle = typeof requestIdleCallback === "function";
  const run = (deadline?: IdleDeadline) => {
    handle = null;
    const started = performance.now();
    const inBudget = () => performance.now() - started < FRAME_BUDGET;
    const timeLeft = deadline && !deadline.didTimeout ? () => inBudget() && deadline.timeRemaining() > IDLE_MARGIN : inBudget;
    if (work(timeLeft)) request();
  };
  const request = () => {
    if (handle !== null) return;
    handle = idle ? requestIdleCallback(run, { timeout: IDLE_TIMEOUT }) : (setTimeout(run, 0) as unknown as number);
  };
  return {
    request,
    cancel() {
      if (handle === null) return;
      if (idle) cancelIdleCallback(handle);
      else clearTimeout(handle);
      handle = null;
    },
  };
}
