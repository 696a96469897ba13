import { describe, expect, it } from "vitest";
import type { LayerMessage, PageMessage, Payload } from "../data/protocol";
import { encodeLayer, makePayload, randomWeights } from "../testing/fixtures";
import { createStore } from "./store";
import { connect } from "./sync";
import { initialViewState, type ViewState } from "./viewState";

/** An anywidget model as Jupyter gives it: traits, change events, custom messages. */
function fakeModel(traits: Record<string, unknown>) {
  const state: Record<string, unknown> = { ...traits };
  const handlers = new Map<string, Set<(...args: any[]) => void>>();
  const sent: PageMessage[] = [];
  const saved: Record<string, unknown>[] = [];
  let pending: Record<string, unknown> = {};
  return {
    sent,
    saved,
    get: (name: string) => state[name],
    set: (name: string, value: unknown) => {
      state[name] = value;
      pending[name] = value;
    },
    save_changes: () => {
      saved.push(pending);
      pending = {};
    },
    on: (event: string, callback: (...args: any[]) => void) => {
      if (!handlers.has(event)) handlers.set(event, new Set());
      handlers.get(event)!.add(callback);
    },
    off: (event?: string | null, callback?: ((...args: any[]) => void) | null) => {
      if (event && callback) handlers.get(event)?.delete(callback);
    },
    send: (message: PageMessage) => sent.push(message),
    /** Python changed a trait. */
    pythonSets(name: string, value: unknown) {
      state[name] = value;
      handlers.get(`change:${name}`)?.forEach((callback) => callback());
    },
    /** Python sent a custom message. */
    pythonSends(content: unknown, buffers: DataView[]) {
      handlers.get("msg:custom")?.forEach((callback) => callback(content, buffers));
    },
    listeners: () => [...handlers.values()].reduce((count, set) => count + set.size, 0),
  };
}

const WEIGHTS = randomWeights(3, 2, 4, 4, { seed: 7 });

function setUp(payload: Payload, traits: Record<string, unknown> = {}) {
  const model = fakeModel({ layer: 0, heads: [0, 1], focus: null, stack: "self", busy: false, error: "", _data: payload, ...traits });
  const store = createStore<ViewState>(initialViewState, () => {});
  const { actions, disconnect } = connect(model as any, store);
  store.flush();
  return { model, store, actions, disconnect };
}

function layerReply(version: number, layer: number): [LayerMessage, DataView[]] {
  const { codes } = encodeLayer(WEIGHTS[layer]!);
  const message: LayerMessage = { type: "layer", version, stack: "self", layer, dtype: "uint8", shape: [2, 4, 4] };
  return [message, [new DataView(codes.buffer, codes.byteOffset, codes.byteLength)]];
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

  it("asks Python to run and shows it is pending until Python answers", () => {
    const { model, store, actions } = setUp(makePayload({ weights: WEIGHTS }));
    actions.run({ sentence: "A new one." });
    store.flush();
    expect(model.sent.at(-1)).toEqual({ type: "run", sentence: "A new one." });
    expect(store.get().pending).toBe(true);
    model.pythonSets("busy", true);
    model.pythonSets("busy", false);
    store.flush();
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

  it("drops layers for replaced data and asks again for the new data", () => {
    const { model, store } = setUp(makePayload({ weights: WEIGHTS, missing: [0] }, 5));
    model.pythonSets("_data", makePayload({ weights: WEIGHTS, missing: [0] }, 6));
    store.flush();
    model.pythonSends(...layerReply(5, 0));
    expect(store.get().data?.stack("self").hasLayer(0)).toBe(false);
    const requestsForNewData = model.sent.filter((message) => message.type === "layers" && message.version === 6);
    expect(requestsForNewData).toEqual([{ type: "layers", version: 6, stack: "self", layers: [0] }]);
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
    expect(model.sent.at(-1)).toEqual({ type: "compare", model: "tuned" });
    expect(store.get().pending).toBe(true);
    const ab = makePayload([{ weights: WEIGHTS, name: "a" }, { weights: WEIGHTS, name: "b" }], 2);
    model.pythonSets("_compare", { ...ab, model: "tuned", level: "tokens", caption: "", layer_map: [0, 1, 2], change: [] });
    store.flush();
    expect(store.get().compare?.model).toBe("tuned");
    expect(store.get().pending).toBe(false);

    model.pythonSets("_compare", {});
    store.flush();
    expect(store.get().compare).toBeNull();
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
