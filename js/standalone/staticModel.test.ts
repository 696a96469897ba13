import { describe, expect, it } from "vitest";
import type { Payload } from "../data/protocol";
import { createStore } from "../state/store";
import { connect } from "../state/sync";
import type { Traits } from "../state/traits";
import { initialViewState, type ViewState } from "../state/viewState";
import { createAnalysisBar } from "../panels/analysisBar";
import { ViewDeriver } from "../state/view";
import { makeContext, makePayload, mount, randomWeights } from "../testing/fixtures";
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
    const model = new StaticModel<Traits>({ layer: 1, heads: [0, 1], focus: null, stack: "self", _data: payload, has_model: false });
    const store = createStore<ViewState>(initialViewState, () => {});
    const { actions } = connect(model, store);
    actions.update({ layer: 2, focus: 3 });
    store.flush();
    expect([store.get().layer, store.get().focus, model.get("layer"), model.get("focus")]).toEqual([2, 3, 2, 3]);
    expect(store.get().data?.stack("self").missingLayers()).toEqual([]);
    expect(store.get().hasModel).toBe(false);
  });

  it("keeps a saved file's rollout and words as saved: the toggles are pressed and cannot be clicked", () => {
    const payload: Payload = { ...makePayload({ weights: randomWeights(2, 2, 3, 3, { seed: 2 }) }), combine: "rollout", granularity: "words" };
    const model = new StaticModel<Traits>({ stack: "self", layer: 0, heads: [0, 1], combine: "rollout", granularity: "words", _data: payload, _static: true,
      models: [], model: "saved", compare_to: "", has_model: false });
    const store = createStore<ViewState>(initialViewState, () => {});
    connect(model, store);
    store.flush();
    const state = store.get();
    expect(state.savedFile).toBe(true);
    const context = makeContext();
    const bar = mount(createAnalysisBar(context), state, new ViewDeriver().derive(state));
    const combine = bar.element.querySelector<HTMLButtonElement>("[data-testid=combine-toggle]")!;
    const words = bar.element.querySelector<HTMLButtonElement>("[data-testid=granularity-toggle]")!;
    expect([combine.getAttribute("aria-pressed"), words.getAttribute("aria-pressed")]).toEqual(["true", "true"]);
    expect([combine.disabled, words.disabled]).toEqual([true, true]);
    expect(combine.title).toContain("fixed when this file was saved");
    combine.click();
    expect(context.actions.update).not.toHaveBeenCalled();
    bar.destroy();
  });
});
