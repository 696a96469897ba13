import { describe, expect, it } from "vitest";
import { encodeLayer, makePayload, randomWeights } from "../testing/fixtures";
import { StackData } from "./attention";

const WEIGHTS = randomWeights(2, 2, 3, 3, { seed: 3 });

function streamedStack(): StackData {
  const payload = makePayload({ weights: WEIGHTS, missing: [0, 1] }).stacks.self!;
  payload.row_scale = null; // each part brings its rows' scales
  return new StackData(payload);
}

function part(layer: number, start: number, stop: number): [DataView, DataView] {
  const { codes, scales } = encodeLayer(WEIGHTS[layer]!);
  return [new DataView(codes.slice(start * 3, stop * 3).buffer), new DataView(scales.slice(start, stop).buffer)];
}

describe("a layer arriving in parts", () => {
  it("is complete only when every row has arrived, in any order, repeats ignored", () => {
    const stack = streamedStack();
    expect(stack.setChunk(1, 4, 6, ...part(1, 4, 6))).toBe(false);
    expect(stack.setChunk(1, 4, 6, ...part(1, 4, 6))).toBe(false);
    expect(stack.setChunk(1, 0, 4, ...part(1, 0, 4))).toBe(true);
    expect(stack.missingLayers()).toEqual([0]);
    for (let head = 0; head < 2; head++) {
      for (let row = 0; row < 3; row++) {
        const max = Math.max(...WEIGHTS[1]![head]![row]!);
        for (let col = 0; col < 3; col++) {
          expect(Math.abs(stack.value(1, head, row, col) - WEIGHTS[1]![head]![row]![col]!)).toBeLessThanOrEqual(max / 510 + 1e-7);
        }
      }
    }
  });

  it("refuses parts that do not fit the layer, and keeps what it has", () => {
    const stack = streamedStack();
    expect(() => stack.setChunk(2, 0, 6, ...part(0, 0, 6))).toThrow(/out of range/);
    expect(() => stack.setChunk(0, 4, 8, ...part(0, 4, 6))).toThrow(/out of range/);
    expect(() => stack.setChunk(0, 0, 2, ...part(0, 0, 3))).toThrow(/do not match/);
    expect(stack.missingLayers()).toEqual([0, 1]);
  });
});
