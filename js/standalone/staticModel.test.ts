import { describe, expect, it } from "vitest";
import { createStore } from "../state/store";
import { connect } from "../state/sync";
import { initialViewState, type ViewState } from "../state/viewState";
import { makePayload, randomWeights } from "../testing/fixtures";
import { StaticModel } from "./staticModel";

describe("StaticModel", () => {
  it("tells change listeners about a set, once, and not after off", () => {
    const model = new StaticModel({ layer: 0 });
    const seen: number[] = [];
    const listener = () => seen.push(model.get("layer"));
    model.on("change:layer", listener);
    model.set("layer", 2);
    model.set("layer", 2); // unchanged: no event
    model.off("change:layer", listener);
    model.set("layer", 3);
    expect(seen).toEqual([2]);
    expect(model.get("layer")).toBe(3);
  });

  it("drives the widget's store as a kernel's model does, with every layer already there", () => {
    const payload = makePayload({ weights: randomWeights(3, 2, 4, 4, { seed: 1 }) });
    const model = new StaticModel({ layer: 1, heads: [0, 1], focus: null, stack: "self", _data: payload, has_model: false });
    const store = createStore<ViewState>(initialViewState, () => {});
    const { actions } = connect(model.asAnyModel(), store);
    actions.update({ layer: 2, focus: 3 });
    store.flush();
    expect([store.get().layer, store.get().focus, model.get("layer"), model.get("focus")]).toEqual([2, 3, 2, 3]);
    expect(store.get().data?.stack("self").missingLayers()).toEqual([]);
    expect(store.get().hasModel).toBe(false);
  });
});
