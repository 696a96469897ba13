import { describe, expect, it } from "vitest";
import { HeadQueries } from "../../data/queries";
import { ViewDeriver } from "../../state/view";
import { makeContext, makeData, makeState, mount, randomWeights } from "../../testing/fixtures";
import { cellWidth } from "./geometry";
import { createNeuronView } from "./index";
import { neuronLayout } from "./layout";

/** A head with known vectors: 3 tokens, 2 dimensions, a causal mask as models build it. */
function head(bias: boolean): HeadQueries {
  const queries = new HeadQueries(1, "self", 0, 0, 0, 0.5, 3, 3, 2, bias);
  const q = new Float32Array([1, 0, 0, 1, 1, 2]);
  const k = new Float32Array([2, 0, 0, 3, -1, 1]);
  const buffer = (values: Float32Array) => new DataView(values.slice().buffer);
  queries.add("q", 0, 3, buffer(q));
  queries.add("k", 0, 2, buffer(k.subarray(0, 4)));
  queries.add("k", 2, 3, buffer(k.subarray(4)));
  if (bias) {
    const min = -3.4028234663852886e38;
    queries.add("bias", 0, 3, buffer(new Float32Array([0, min, min, 0, 0, min, 0, 0, 0])));
  }
  return queries;
}

describe("neuronLayout", () => {
  it("gives each key's dot product, scaled score and softmax weight", () => {
    const layout = neuronLayout(head(false), 2, [0, 1, 2], false);
    // q = (1, 2); k = (2, 0), (0, 3), (-1, 1): dots 2, 6, 1; scores ×0.5: 1, 3, 0.5.
    expect(layout.lines.map((line) => line.dot)).toEqual([2, 6, 1]);
    expect(layout.lines.map((line) => line.score)).toEqual([1, 3, 0.5]);
    const total = Math.exp(1) + Math.exp(3) + Math.exp(0.5);
    layout.lines.forEach((line, i) => expect(line.weight).toBeCloseTo(Math.exp([1, 3, 0.5][i]!) / total, 12));
    expect(layout.vectorMax).toBe(3);
    expect(layout.productMax).toBe(6); // q⊙k of key 1: (0, 6)
  });

  it("adds the bias and marks masked keys with no weight", () => {
    const layout = neuronLayout(head(true), 1, [0, 1, 2], false);
    // q = (0, 1): dots 0, 3, 1; key 2 is in the future.
    expect(layout.lines.map((line) => line.masked)).toEqual([false, false, true]);
    expect(layout.lines[2]!.weight).toBe(0);
    expect(layout.lines[0]!.weight + layout.lines[1]!.weight).toBeCloseTo(1, 12);
    expect(layout.lines[1]!.weight).toBeCloseTo(Math.exp(1.5) / (1 + Math.exp(1.5)), 12);
  });

  it("sorts by weight on request and keeps weights over every key when some are hidden", () => {
    const sorted = neuronLayout(head(false), 2, [0, 1, 2], true);
    expect(sorted.lines.map((line) => line.key)).toEqual([1, 0, 2]);
    const visible = neuronLayout(head(false), 2, [0, 2], false);
    expect(visible.lines.map((line) => line.key)).toEqual([0, 2]);
    expect(visible.lines[0]!.weight).toBeCloseTo(sorted.lines[1]!.weight, 12);
  });

  it("keeps 128 dimensions within a notebook's width", () => {
    expect(cellWidth(128) * 128).toBeLessThanOrEqual(512);
    expect(cellWidth(64)).toBeGreaterThanOrEqual(cellWidth(128));
  });
});

describe("the neuron view over words", () => {
  it("does not explain a word as if it were one word piece: it asks to switch words off", () => {
    const data = makeData({ weights: randomWeights(1, 2, 4, 4, { seed: 4 }) });
    const state = makeState(data, { neuronOpen: true, granularity: "words", focus: 1 });
    const panel = mount(createNeuronView(makeContext()), state, new ViewDeriver().derive(state));
    expect(panel.element.querySelector("[data-testid=neuron-caption]")?.textContent).toContain("switch “Words” off");
    panel.destroy();
  });
});
