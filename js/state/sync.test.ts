import { afterEach, describe, expect, it, vi } from "vitest";
import type { LayerMessage, PageMessage, Payload } from "../data/protocol";
import { decodeArray } from "../data/decode";
import { fakeModel } from "../testing/fakeModel";
import { encodeLayer, makePayload, randomWeights } from "../testing/fixtures";
import { createStore, type Store } from "./store";
import { LATE_MS, NO_ANSWER_MS } from "./late";
import { connect, NOTICE_MS } from "./sync";
import { initialViewState, type ViewState } from "./viewState";

const WEIGHTS = randomWeights(3, 2, 4, 4, { seed: 7 });

function setUp(payload: Payload, traits: Record<string, unknown> = {}) {
  const model = fakeModel({ layer: 0, heads: [0, 1], focus: null, stack: "self", busy: false, error: "", _data: payload, ...traits });
  const store = createStore<ViewState>(initialViewState, () => {});
  const { actions, disconnect } = connect(model, store);
  store.flush();
  return { model, store, actions, disconnect };
}

/** Python's answer to a layer request, in messages of `rowsPerMessage` of the layer's 2 × 4 flat rows. */
function layerReplies(version: number, layer: number, rowsPerMessage = 8, extra: Partial<LayerMessage> = {}): Array<[LayerMessage, DataView[]]> {
  const { codes, scales } = encodeLayer(WEIGHTS[layer]!);
  const replies: Array<[LayerMessage, DataView[]]> = [];
  for (let start = 0; start < 8; start += rowsPerMessage) {
    const stop = Math.min(8, start + rowsPerMessage);
    const message: LayerMessage = { type: "layer", version, stack: "self", layer, dtype: "uint8", shape: [2, 4, 4], start, stop, ...extra };
    const chunk = codes.slice(start * 4, stop * 4);
    const chunkScales = scales.slice(start, stop);
    replies.push([message, [new DataView(chunk.buffer), new DataView(chunkScales.buffer)]]);
  }
  return replies;
}

function layerReply(version: number, layer: number): [LayerMessage, DataView[]] {
  return layerReplies(version, layer)[0]!;
}

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

  it("fetches the shown layer first, then the rest one at a time", () => {
    const { model, store } = setUp(makePayload({ weights: WEIGHTS, missing: [0, 1, 2] }, 5), { layer: 1 });
    const layerRequests = () => model.sent.filter((message) => message.type === "layers");
    expect(layerRequests()).toEqual([{ type: "layers", version: 5, stack: "self", layers: [1] }]);

    model.pythonSends(...layerReply(5, 1));
    store.flush();
    expect(store.get().data?.stack("self").hasLayer(1)).toBe(true);
    expect(layerRequests().at(-1)).toEqual({ type: "layers", version: 5, stack: "self", layers: [0] });

    model.pythonSends(...layerReply(5, 0));
    model.pythonSends(...layerReply(5, 2));
    store.flush();
    expect(store.get().data?.stack("self").missingLayers()).toEqual([]);
    expect(layerRequests()).toHaveLength(3);
  });

  it("reassembles a layer sent in several messages, with the scales each part brings", () => {
    const payload = makePayload({ weights: WEIGHTS, missing: [0, 1, 2] }, 5);
    const scales = decodeArray(payload.stacks.self!.row_scale!);
    payload.stacks.self!.row_scale = null;
    const { model, store } = setUp(payload, { layer: 1 });
    const parts = layerReplies(5, 1, 3);
    expect(parts).toHaveLength(3);
    for (const part of parts.slice(0, 2)) model.pythonSends(...part);
    expect(store.get().data?.stack("self").hasLayer(1)).toBe(false);
    expect(model.sent.filter((message) => message.type === "layers")).toHaveLength(1); // no new request before the answer's last part
    model.pythonSends(...parts[2]!);
    store.flush();
    const stack = store.get().data!.stack("self");
    expect(stack.hasLayer(1)).toBe(true);
    for (let head = 0; head < 2; head++) {
      for (let row = 0; row < 4; row++) {
        expect(stack.codeScale(1, head, row) * 255).toBeCloseTo(scales[(1 * 2 + head) * 4 + row]!, 6);
        for (let col = 0; col < 4; col++) expect(Math.abs(stack.value(1, head, row, col) - WEIGHTS[1]![head]![row]![col]!)).toBeLessThanOrEqual(scales[(1 * 2 + head) * 4 + row]! / 510 + 1e-7);
      }
    }
    expect(model.sent.at(-1)).toEqual({ type: "layers", version: 5, stack: "self", layers: [0] });
  });

  it("drops layers for replaced data and asks again for the new data", () => {
    const { model, store } = setUp(makePayload({ weights: WEIGHTS, missing: [0] }, 5));
    model.pythonSets("_data", makePayload({ weights: WEIGHTS, missing: [0] }, 6));
    store.flush();
    model.pythonSends(...layerReply(5, 0));
    expect(store.get().data?.stack("self").hasLayer(0)).toBe(false);
    const requestsForNewData = model.sent.filter((message) => message.type === "layers" && message.version === 6);
    expect(requestsForNewData).toEqual([{ type: "layers", version: 6, stack: "self", layers: [0] }]);
  });

  it("says a layer was not saved when no kernel answers, and forgets it when one does", () => {
    vi.useFakeTimers();
    try {
      const { model, store } = setUp(makePayload({ weights: WEIGHTS, missing: [1] }, 5), { layer: 1 });
      vi.advanceTimersByTime(NO_ANSWER_MS - 1);
      store.flush();
      expect(store.get().layersUnanswered).toBe(false);
      vi.advanceTimersByTime(1);
      store.flush();
      expect(store.get().layersUnanswered).toBe(true);

      model.pythonSends(...layerReply(5, 1));
      store.flush();
      expect(store.get().layersUnanswered).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it("never says so while the parts of a layer are arriving, however slowly", () => {
    vi.useFakeTimers();
    const { model, store } = setUp(makePayload({ weights: WEIGHTS, missing: [1] }, 5), { layer: 1 });
    for (const reply of layerReplies(5, 1, 2)) {
      vi.advanceTimersByTime(NO_ANSWER_MS - 1);
      model.pythonSends(...reply);
      store.flush();
      expect(store.get().layersUnanswered).toBe(false);
    }
    expect(store.get().data?.stack("self").hasLayer(1)).toBe(true);
    vi.advanceTimersByTime(10 * NO_ANSWER_MS); // every layer is here: nothing is awaited
    store.flush();
    expect(store.get().layersUnanswered).toBe(false);
  });

  it("does not wait for answers after disconnect", () => {
    vi.useFakeTimers();
    try {
      const { store, disconnect } = setUp(makePayload({ weights: WEIGHTS, missing: [1] }, 5), { layer: 1 });
      disconnect();
      vi.advanceTimersByTime(NO_ANSWER_MS);
      store.flush();
      expect(store.get().layersUnanswered).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it("removes every listener it added on disconnect", () => {
    const { model, disconnect } = setUp(makePayload({ weights: WEIGHTS }));
    expect(model.listeners()).toBeGreaterThan(0);
    disconnect();
    expect(model.listeners()).toBe(0);
  });
});

describe("analysis traits (issue #10)", () => {
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

  it("fetches the comparison's shown layers on demand, in parts, apart from _data's layers", () => {
    const { model, store, actions } = setUp(makePayload({ weights: WEIGHTS }, 4));
    const ab = makePayload([{ weights: WEIGHTS, name: "a", missing: [0, 1, 2] }, { weights: WEIGHTS, name: "b", missing: [0, 1, 2] }], 9);
    model.pythonSets("_compare", { ...ab, model: "tuned", level: "tokens", caption: "", layer_map: [0, 2, 2], change: [] });
    store.flush();
    const asked = () => model.sent.filter((message) => message.type === "compare_layers");
    expect(asked()).toEqual([{ type: "compare_layers", version: 9, stack: "a", layers: [0] }]);
    const [first, second] = layerReplies(9, 0, 4, { stack: "a", source: "compare" });
    model.pythonSends(...first!);
    store.flush();
    expect(store.get().compare!.a.hasLayer(0)).toBe(false); // half a layer is not a layer
    expect(asked()).toHaveLength(1);
    model.pythonSends(...second!);
    store.flush();
    expect(store.get().compare!.a.hasLayer(0)).toBe(true);
    expect(store.get().data!.stack("self").hasLayer(0)).toBe(true); // _data is untouched by compare layers
    expect(asked().at(-1)).toEqual({ type: "compare_layers", version: 9, stack: "b", layers: [0] });
    model.pythonSends(...layerReply(9, 0).map((part, index) => (index === 0 ? { ...(part as LayerMessage), stack: "b", source: "compare" } : part)) as [LayerMessage, DataView[]]);
    store.flush();
    const compare = store.get().compare!;
    expect(Math.abs(compare.b.value(0, 1, 2, 3) - WEIGHTS[0]![1]![2]![3]!)).toBeLessThanOrEqual(1 / 255);
    const revision = store.get().compareRevision;
    expect(revision).toBeGreaterThan(0);
    actions.update({ layer: 1 }); // A's layer 1 meets B's layer 2: only those are asked for
    store.flush();
    expect(asked().at(-1)).toEqual({ type: "compare_layers", version: 9, stack: "a", layers: [1] });
    model.pythonSends(...layerReplies(9, 1, 8, { stack: "a", source: "compare" })[0]!);
    store.flush();
    expect(asked().at(-1)).toEqual({ type: "compare_layers", version: 9, stack: "b", layers: [2] });
  });

  it("asks Python for head statistics once per data version and stack", () => {
    const { model, store, actions } = setUp(makePayload({ weights: WEIGHTS }, 4));
    const asked = () => model.sent.filter((message) => message.type === "head_stats");
    expect(asked()).toEqual([{ type: "head_stats", version: 4, stack: "self" }]);
    actions.update({ layer: 2 });
    store.flush();
    expect(asked()).toHaveLength(1);
    model.pythonSets("_head_stats", { stack: "self", version: 4, summary: "", columns: {} });
    model.pythonSets("_data", makePayload({ weights: WEIGHTS }, 5));
    store.flush();
    expect(asked().at(-1)).toEqual({ type: "head_stats", version: 5, stack: "self" });
  });
});
