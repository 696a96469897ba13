import { describe, expect, it, vi } from "vitest";
import { createStore, type Scheduler } from "./store";

/** A scheduler the test runs by hand: one call of `frame()` is one animation frame. */
function manualFrames() {
  const queue: Array<() => void> = [];
  const schedule: Scheduler = (callback) => void queue.push(callback);
  const frame = () => queue.splice(0).forEach((callback) => callback());
  return { schedule, frame, pending: () => queue.length };
}

describe("the view-state store", () => {
  it("batches changes into one notification per frame, with the keys that changed", () => {
    const frames = manualFrames();
    const store = createStore({ layer: 0, focus: null as number | null, threshold: 0 }, frames.schedule);
    const listener = vi.fn();
    store.subscribe(listener);
    store.set({ layer: 1 });
    store.set({ focus: 3 });
    store.set({ layer: 2 });
    expect(listener).not.toHaveBeenCalled();
    expect(frames.pending()).toBe(1); // one frame asked for, however many sets
    frames.frame();
    expect(listener).toHaveBeenCalledTimes(1);
    const [state, changed] = listener.mock.calls[0]!;
    expect(state).toEqual({ layer: 2, focus: 3, threshold: 0 });
    expect([...changed].sort()).toEqual(["focus", "layer"]);
  });

  it("updates get() at once, before the frame", () => {
    const frames = manualFrames();
    const store = createStore({ layer: 0 }, frames.schedule);
    store.set({ layer: 4 });
    expect(store.get().layer).toBe(4);
  });

  it("does not notify when nothing changed", () => {
    const frames = manualFrames();
    const store = createStore({ layer: 0, heads: [0] }, frames.schedule);
    const listener = vi.fn();
    store.subscribe(listener);
    store.set({ layer: 0 });
    expect(frames.pending()).toBe(0);
    frames.frame();
    expect(listener).not.toHaveBeenCalled();
  });

  it("delivers pending changes on flush, and a later change in a new frame", () => {
    const frames = manualFrames();
    const store = createStore({ layer: 0 }, frames.schedule);
    const listener = vi.fn();
    const unsubscribe = store.subscribe(listener);
    store.set({ layer: 1 });
    store.flush();
    expect(listener).toHaveBeenCalledTimes(1);
    frames.frame(); // the frame asked for earlier has nothing left to deliver
    expect(listener).toHaveBeenCalledTimes(1);
    store.set({ layer: 2 });
    frames.frame();
    expect(listener).toHaveBeenCalledTimes(2);
    unsubscribe();
    store.set({ layer: 3 });
    frames.frame();
    expect(listener).toHaveBeenCalledTimes(2);
  });
});
