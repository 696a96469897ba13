import { afterEach, describe, expect, it, vi } from "vitest";
import { makePayload } from "../testing/fixtures";
import { connectPage as setUp, WEIGHTS } from "../testing/page";
import { LATE_MS } from "./late";
import type { Store } from "./store";
import { NOTICE_MS } from "./sync";
import type { ViewState } from "./viewState";

afterEach(() => vi.useRealTimers());

/** "Pending" is drawn only once Python's answer is late: not a millisecond before LATE_MS, then at once. */
function expectPendingOnceLate(store: Store<ViewState>): void {
  vi.advanceTimersByTime(LATE_MS - 1);
  store.flush();
  expect(store.get().pending).toBe(false);
  vi.advanceTimersByTime(1);
  store.flush();
  expect(store.get().pending).toBe(true);
}

describe("connect", () => {
  it("starts the store from the model's traits and data", () => {
    const { store } = setUp(makePayload({ weights: WEIGHTS }), { layer: 2, heads: [1] });
    const state = store.get();
    expect(state.layer).toBe(2);
    expect(state.heads).toEqual([1]);
    expect(state.data?.stack("self").nLayers).toBe(3);
  });

  it("follows trait changes made in Python", () => {
    const { model, store } = setUp(makePayload({ weights: WEIGHTS }));
    model.pythonSets("layer", 1);
    model.pythonSets("focus", 3);
    store.flush();
    expect(store.get().layer).toBe(1);
    expect(store.get().focus).toBe(3);
  });

  it("sends view changes to Python in one save, and keeps page-only state local", () => {
    const { model, store, actions } = setUp(makePayload({ weights: WEIGHTS }));
    actions.update({ layer: 2, heads: [0], hover: { axis: "row", index: 1 } });
    expect(model.saved).toEqual([{ layer: 2, heads: [0] }]);
    expect(store.get().hover).toEqual({ axis: "row", index: 1 });
  });

  it("asks Python to run and shows it is pending only once the answer is late, until Python answers that request", () => {
    vi.useFakeTimers();
    const { model, store, actions } = setUp(makePayload({ weights: WEIGHTS }), { _request: 41 });
    actions.run({ sentence: "A new one." });
    model.pythonSets("busy", true);
    store.flush();
    expect(model.sent.at(-1)).toEqual({ type: "run", request: 42, sentence: "A new one." });
    expect(store.get().pending).toBe(false);
    expect(store.get().busy).toBe(false);
    expectPendingOnceLate(store);
    model.pythonSets("busy", false);
    store.flush();
    expect(store.get().pending).toBe(true);
    model.pythonUpdates({ sentence: "A new one.", _data: makePayload({ weights: WEIGHTS }, 2), _request: 42 });
    store.flush();
    expect(store.get().pending).toBe(false);
    expect(store.get().sentence).toBe("A new one.");
    expect(store.get().data?.version).toBe(2);
  });

  it("drops answers to older submissions and applies only the last one's", () => {
    vi.useFakeTimers();
    const { model, store, actions } = setUp(makePayload({ weights: WEIGHTS }), { sentence: "zero", _request: 0 });
    actions.run({ sentence: "one" });
    actions.run({ sentence: "two" });
    model.pythonUpdates({ sentence: "one", _data: makePayload({ weights: WEIGHTS }, 2), _request: 1 });
    vi.advanceTimersByTime(LATE_MS); // the last submission is late now
    store.flush();
    expect(store.get().sentence).toBe("zero");
    expect(store.get().data?.version).toBe(1);
    expect(store.get().pending).toBe(true);
    model.pythonUpdates({ sentence: "two", _data: makePayload({ weights: WEIGHTS }, 3), _request: 2 });
    store.flush();
    expect(store.get().sentence).toBe("two");
    expect(store.get().data?.version).toBe(3);
    expect(store.get().pending).toBe(false);
  });

  it("takes a failed last submission's error and keeps the state Python kept", () => {
    const { model, store, actions } = setUp(makePayload({ weights: WEIGHTS }), { sentence: "zero", _request: 0 });
    actions.run({ sentence: "one" });
    actions.run({ sentence: "   " });
    model.pythonUpdates({ sentence: "one", _data: makePayload({ weights: WEIGHTS }, 2), _request: 1 });
    model.pythonUpdates({ error: "sentence is empty", _request: 2 });
    store.flush();
    expect(store.get()).toMatchObject({ sentence: "one", error: "sentence is empty", pending: false });
    expect(store.get().data?.version).toBe(2);
  });

  it("shows a refusal from Python for a few seconds", () => {
    vi.useFakeTimers();
    const { model, store } = setUp(makePayload({ weights: WEIGHTS }));
    model.pythonSends({ type: "refused", message: "Not applied: layer must be between 0 and 2, got -1" }, []);
    store.flush();
    expect(store.get().notice).toMatch(/layer must be between 0 and 2/);
    vi.advanceTimersByTime(NOTICE_MS);
    store.flush();
    expect(store.get().notice).toBe("");
  });

  it("echoes the answer to its last run in page_runs, and nothing else", () => {
    const { model, store, actions } = setUp(makePayload({ weights: WEIGHTS }), { _request: 0, page_runs: 0 });
    model.pythonSets("_data", makePayload({ weights: WEIGHTS }, 2)); // a change made in Python: not echoed
    actions.run({ sentence: "A new one." });
    model.pythonUpdates({ _data: makePayload({ weights: WEIGHTS }, 3), _request: 1 });
    actions.run({ sentence: "two" });
    actions.run({ sentence: "" });
    model.pythonUpdates({ _data: makePayload({ weights: WEIGHTS }, 4), _request: 2 }); // superseded: not echoed
    model.pythonUpdates({ error: "the sentence is empty", _request: 3 });
    model.pythonSets("_request", 4); // another view's run: this page did not ask
    store.flush();
    expect(model.saved).toEqual([{ page_runs: 1 }, { page_runs: 3 }]);
  });

  it("shows a run started in Python as pending only once it is late, until Python is done", () => {
    vi.useFakeTimers();
    const { model, store } = setUp(makePayload({ weights: WEIGHTS }));
    model.pythonSets("busy", true);
    expectPendingOnceLate(store);
    model.pythonSets("busy", false);
    model.pythonSets("_data", makePayload({ weights: WEIGHTS }, 2));
    store.flush();
    expect(store.get().pending).toBe(false);
    expect(store.get().data?.version).toBe(2);
  });

  it("draws no pending state at all for an answer that comes in time", () => {
    vi.useFakeTimers();
    const { model, store, actions } = setUp(makePayload({ weights: WEIGHTS }), { _request: 0 });
    const states: boolean[] = [];
    store.subscribe((state) => states.push(state.pending || state.busy));
    actions.run({ sentence: "A new one." });
    model.pythonSets("busy", true);
    vi.advanceTimersByTime(40);
    model.pythonSets("busy", false);
    model.pythonUpdates({ _data: makePayload({ weights: WEIGHTS }, 2), _request: 1 });
    vi.advanceTimersByTime(1000);
    store.flush();
    expect(states.every((pending) => !pending)).toBe(true);
    expect(store.get().pending).toBe(false);
  });

  it("keeps the last good data when a payload cannot be read", () => {
    const { model, store } = setUp(makePayload({ weights: WEIGHTS }));
    const good = store.get().data;
    const broken = makePayload({ weights: WEIGHTS }, 2);
    broken.stacks.self!.rows = ["only", "two"];
    model.pythonSets("_data", broken);
    store.flush();
    expect(store.get().data).toBe(good);
    expect(store.get().error).toMatch(/could not read the attention data/);
  });

  it("removes every listener it added on disconnect", () => {
    const { model, disconnect } = setUp(makePayload({ weights: WEIGHTS }));
    expect(model.listeners()).toBeGreaterThan(0);
    disconnect();
    expect(model.listeners()).toBe(0);
  });
});

describe("analysis traits", () => {
  it("syncs the toggles both ways, decodes the comparison and asks Python for a second model", () => {
    const { model, store, actions } = setUp(makePayload({ weights: WEIGHTS }), { combine: "none", granularity: "tokens", compare_to: "" });
    actions.update({ combine: "rollout", granularity: "words" });
    expect(model.saved.at(-1)).toEqual({ combine: "rollout", granularity: "words" });

    model.pythonSets("combine", "none");
    store.flush();
    expect(store.get().combine).toBe("none");

    actions.compare("tuned");
    expect(model.sent.at(-1)).toEqual({ type: "compare", request: 1, model: "tuned" });
    expect(store.get().pending).toBe(true);
    const ab = makePayload([{ weights: WEIGHTS, name: "a" }, { weights: WEIGHTS, name: "b" }], 2);
    model.pythonSets("_compare", { ...ab, model: "tuned", level: "tokens", caption: "", layer_map: [0, 1, 2], change: [] });
    store.flush();
    expect(store.get().compare).toBeNull(); // held back until Python answers the request
    model.pythonSets("_request", 1);
    store.flush();
    expect(store.get().compare?.model).toBe("tuned");
    expect(store.get().pending).toBe(false);

    model.pythonSets("_compare", {});
    store.flush();
    expect(store.get().compare).toBeNull();
  });
});
