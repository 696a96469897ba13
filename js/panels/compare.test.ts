import { afterEach, describe, expect, it } from "vitest";
import { CompareData, decodeCompare } from "../data/compare";
import type { ComparePayload } from "../data/protocol";
import { encodeStack, makeContext, makeData, makeState, mount, quantError, randomWeights, type Weights } from "../testing/fixtures";
import { ViewDeriver } from "../state/view";
import { compareMatrices, createCompare } from "./compare";

afterEach(() => document.body.replaceChildren());

function comparePayload(a: Weights, b: Weights, layerMap: number[], change: Array<[number, number, number]> = []): ComparePayload {
  return {
    version: 3,
    model: "tuned",
    stacks: { a: encodeStack({ weights: a, name: "a" }), b: encodeStack({ weights: b, name: "b" }) },
    level: "tokens",
    caption: "",
    layer_map: layerMap,
    change,
  };
}

/** The mean over `heads` of one layer, written as loops. */
function meanOf(weights: Weights, layer: number, heads: number[]): number[][] {
  const rows = weights[layer]![0]!.length;
  const cols = weights[layer]![0]![0]!.length;
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => heads.reduce((sum, h) => sum + weights[layer]![h]![r]![c]!, 0) / heads.length),
  );
}

describe("compare matrices", () => {
  it("are A's and B's head means at matched layers and their difference", () => {
    const a = randomWeights(3, 2, 5, 5, { seed: 1 });
    const b = randomWeights(5, 2, 5, 5, { seed: 2 });
    const compare = new CompareData(comparePayload(a, b, [0, 2, 4]));
    const m = compareMatrices(compare, 1, [0, 1])!;
    expect(m.layerB).toBe(2);
    const ea = meanOf(a, 1, [0, 1]);
    const eb = meanOf(b, 2, [0, 1]);
    let maxDiff = 0;
    for (let r = 0; r < 5; r++) {
      for (let c = 0; c < 5; c++) {
        const i = r * 5 + c;
        expect(Math.abs(m.a[i]! - ea[r]![c]!)).toBeLessThanOrEqual(quantError());
        expect(Math.abs(m.b[i]! - eb[r]![c]!)).toBeLessThanOrEqual(quantError());
        expect(Math.abs(m.diff[i]! - (ea[r]![c]! - eb[r]![c]!))).toBeLessThanOrEqual(2 * quantError());
        maxDiff = Math.max(maxDiff, Math.abs(ea[r]![c]! - eb[r]![c]!));
      }
    }
    expect(m.differenceScale).toBeCloseTo(maxDiff, 2); // symmetric: the largest |A − B| either way
  });

  it("use every head of B when the head counts differ", () => {
    const a = randomWeights(1, 2, 4, 4, { seed: 3 });
    const b = randomWeights(1, 3, 4, 4, { seed: 4 });
    const m = compareMatrices(new CompareData(comparePayload(a, b, [0])), 0, [1])!;
    expect(m.headsB).toEqual([0, 1, 2]);
    const eb = meanOf(b, 0, [0, 1, 2]);
    expect(Math.abs(m.b[5]! - eb[1]![1]!)).toBeLessThanOrEqual(quantError());
  });

  it("refuse a payload whose stacks do not align, keeping an error instead", () => {
    const bad = comparePayload(randomWeights(1, 1, 4, 4), randomWeights(1, 1, 3, 3), [0]);
    expect(decodeCompare(bad)).toEqual({ error: expect.stringContaining("must align") });
    expect(decodeCompare({})).toEqual({ compare: null });
    expect(decodeCompare(comparePayload(randomWeights(2, 1, 3, 3), randomWeights(1, 1, 3, 3), [0, 1]))).toEqual({
      error: expect.stringContaining("layer map"),
    });
  });
});

describe("compare panel", () => {
  it("ranks the heads that changed most and selects one on click", () => {
    const weights = randomWeights(2, 2, 4, 4);
    const compare = new CompareData(comparePayload(weights, randomWeights(2, 2, 4, 4, { seed: 9 }), [0, 1], [[1, 0, 0.3], [0, 1, 0.1]]));
    const data = makeData({ weights });
    const state = makeState(data, { compare, model: "base" });
    const context = makeContext();
    const panel = mount(createCompare(context), state, new ViewDeriver().derive(state));
    expect(panel.element.hidden).toBe(false);
    const ranked = panel.element.querySelectorAll<HTMLElement>("[data-testid=compare-rank]");
    expect(Array.from(ranked, (item) => item.textContent)).toEqual(["layer 1 · head 00.300", "layer 0 · head 10.100"]);
    ranked[0]!.click();
    expect(context.actions.update).toHaveBeenCalledWith({ layer: 1, heads: [0] });
    expect(panel.element.querySelector("[data-testid=compare-caption]")!.textContent).toContain("B: tuned · layer 0");
  });

  it("is hidden without a comparison", () => {
    const data = makeData({ weights: randomWeights(1, 1, 3, 3) });
    const state = makeState(data);
    const panel = mount(createCompare(makeContext()), state, new ViewDeriver().derive(state));
    expect(panel.element.hidden).toBe(true);
  });
});
