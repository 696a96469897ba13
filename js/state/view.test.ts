import { describe, expect, it } from "vitest";
import { makeStack, makeView, quantError, randomWeights, sum } from "../testing/fixtures";
import { ViewDeriver, visibleSelection } from "./view";

const tokens = ["[CLS]", "a1", "a2", "[SEP]", "b1", "b2", "[SEP]"];
const special = [true, false, false, true, false, false, true];
const pairStack = () => makeStack({ weights: randomWeights(1, 2, 7, 7), rows: tokens, special, bStart: 4 });

describe("visible tokens", () => {
  it("are all tokens by default", () => {
    const { rows, cols } = visibleSelection(pairStack(), false, "all");
    expect(Array.from(rows)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(cols)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("leave out special tokens when they are hidden, with positions for the rest", () => {
    const { rows, rowPos } = visibleSelection(pairStack(), true, "all");
    expect(Array.from(rows)).toEqual([1, 2, 4, 5]);
    expect(Array.from(rowPos)).toEqual([-1, 0, 1, -1, 2, 3, -1]);
  });

  it("pick one block of a sentence pair: rows from the first sentence, columns from the second", () => {
    const stack = pairStack();
    const pick = (filter: "aa" | "ab" | "ba" | "bb") => {
      const { rows, cols } = visibleSelection(stack, false, filter);
      return [Array.from(rows), Array.from(cols)];
    };
    expect(pick("aa")).toEqual([[0, 1, 2, 3], [0, 1, 2, 3]]);
    expect(pick("ab")).toEqual([[0, 1, 2, 3], [4, 5, 6]]);
    expect(pick("ba")).toEqual([[4, 5, 6], [0, 1, 2, 3]]);
    expect(pick("bb")).toEqual([[4, 5, 6], [4, 5, 6]]);
    const both = visibleSelection(stack, true, "ab");
    expect([Array.from(both.rows), Array.from(both.cols)]).toEqual([[1, 2], [4, 5]]);
  });

  it("ignore a pair filter on a single sentence", () => {
    const single = makeStack({ weights: randomWeights(1, 1, 4, 4) });
    expect(Array.from(visibleSelection(single, false, "ab").cols)).toEqual([0, 1, 2, 3]);
  });
});

describe("a layer view", () => {
  it("reads weights back within the 8-bit error", () => {
    const weights = randomWeights(2, 2, 5, 5);
    const { view } = makeView({ weights }, { layer: 1 });
    for (let r = 0; r < 5; r++) for (let c = 0; c < 5; c++) expect(Math.abs(view.current!.weight(1, r, c) - weights[1]![1]![r]![c]!)).toBeLessThanOrEqual(quantError());
  });

  it("means over heads, and caches the mean for the same head set", () => {
    const weights = randomWeights(1, 3, 4, 4);
    const layer = makeView({ weights }).view.current!;
    const mean = layer.mean([0, 2])!;
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 4; c++) expect(mean[r * 4 + c]).toBeCloseTo((layer.weight(0, r, c) + layer.weight(2, r, c)) / 2, 6);
    }
    expect(layer.mean([0, 2])).toBe(mean);
    expect(layer.mean([1])).not.toBe(mean);
    expect(layer.mean([])).toBeNull();
  });

  it("renormalises rows over the visible columns when special tokens are hidden", () => {
    const weights = randomWeights(1, 2, 7, 7);
    const { view } = makeView({ weights, rows: tokens, special }, { hideSpecial: true });
    const layer = view.current!;
    expect(layer.renormalised).toBe(true);
    const mean = layer.mean([0, 1])!;
    for (let r = 0; r < 4; r++) expect(sum(mean.subarray(r * 4, r * 4 + 4))).toBeCloseTo(1, 5);
    for (let r = 0; r < 4; r++) expect(sum(Array.from({ length: 4 }, (_, c) => layer.weight(1, r, c)))).toBeCloseTo(1, 5);
  });

  it("is not ready, and reads NaN, until its layer arrives", () => {
    const { view } = makeView({ weights: randomWeights(2, 1, 3, 3), missing: [1] });
    expect(view.layer(1)!.ready).toBe(false);
    expect(view.layer(1)!.weight(0, 0, 0)).toBeNaN();
    expect(view.layer(2)).toBeNull();
  });

  it("is rebuilt once its layer arrives", () => {
    const weights = randomWeights(2, 1, 3, 3);
    const { state, view } = makeView({ weights, missing: [1] });
    const deriver = new ViewDeriver();
    expect(deriver.derive(state).layer(1)!.ready).toBe(false);
    const codes = new Uint8Array(9).fill(255);
    view.stack!.setLayer(1, codes);
    expect(deriver.derive(state).layer(1)!.ready).toBe(true);
  });
});
