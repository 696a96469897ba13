import { afterEach, describe, expect, it, vi } from "vitest";
import { decodeArray } from "../data/decode";
import type { LayerMessage } from "../data/protocol";
import { makePayload } from "../testing/fixtures";
import { connectPage as setUp, layerReplies, layerReply, WEIGHTS } from "../testing/page";
import { NO_ANSWER_MS } from "./late";

afterEach(() => vi.useRealTimers());

describe("fetching what the page lacks", () => {
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
