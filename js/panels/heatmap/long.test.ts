import { describe, expect, it } from "vitest";
import { answer, connectLongInput, floats, N } from "../../testing/longInput";
import { longHeatmapCells } from "./long";

describe("the heatmap of a long input", () => {
  it("shows a cell's own weight at one token per cell, and hatches the masked ones", () => {
    const { long, view, requests, model } = connectLongInput();
    const layer = view().current!;
    const window = { r0: 0, c0: 0, rows: N, cols: N };
    expect(longHeatmapCells(layer, [0], window, [440, 600], null)).toBeNull();
    const tile = Array.from({ length: N * N }, (_, i) => i / 100);
    model.pythonSends(...answer(requests()[0]!, [N, N], [floats(tile)]));
    const mask = Int32Array.from({ length: N }, (_, r) => r + 1);
    const cells = longHeatmapCells(layer, [0], window, [440, 600], mask)!;
    expect(cells.long!.valueAt(3, 2)).toBeCloseTo(0.2, 6);
    expect(cells.max).toBeCloseTo(0.35, 6);
    expect(Number.isNaN(cells.long!.pooled.values[0 * N + 1]!)).toBe(true); // row 0 cannot see column 1
    expect(long()).toBeTruthy();
  });
});
