import { describe, expect, it } from "vitest";
import { maxPool, paintValues } from "./raster";
import { niceTicks, integerTicks } from "./scale";
import { percent, percentTick, precise } from "./format";

describe("max-pooling a matrix", () => {
  it("keeps each block's largest value", () => {
    // 4 × 4, pooled to 2 × 2.
    const values = [0, 1, 0, 0, 0, 0, 0, 0.5, 0.2, 0, 0, 0, 0, 0, 0.9, 0];
    expect(Array.from(maxPool(values, 4, { r0: 0, c0: 0, rows: 4, cols: 4 }, 2, 2))).toEqual([1, 0.5, 0.2, 0.9].map(Math.fround));
  });

  it("keeps a one-cell diagonal visible at any downsampling", () => {
    const n = 1000;
    const values = new Float32Array(n * n);
    for (let i = 0; i < n; i++) values[i * n + i] = 1;
    const out = maxPool(values, n, { r0: 0, c0: 0, rows: n, cols: n }, 37, 37);
    for (let i = 0; i < 37; i++) expect(out[i * 37 + i]).toBe(1);
  });

  it("pools only the window asked for", () => {
    const values = Float32Array.from({ length: 36 }, (_, i) => i);
    expect(Array.from(maxPool(values, 6, { r0: 2, c0: 3, rows: 2, cols: 2 }, 2, 2))).toEqual([15, 16, 21, 22]);
  });

  it("marks a block empty only when all of it is masked", () => {
    const values = new Float32Array(16);
    const mask = Int32Array.from([1, 2, 3, 4]); // causal: row r masks columns after r
    const out = maxPool(values, 4, { r0: 0, c0: 0, rows: 4, cols: 4 }, 2, 2, mask);
    expect(Array.from(out, Number.isNaN)).toEqual([false, true, false, false]);
  });

  it("reuses a buffer it is given", () => {
    const buffer = new Float32Array(100);
    const out = maxPool([1, 2, 3, 4], 2, { r0: 0, c0: 0, rows: 2, cols: 2 }, 2, 2, null, buffer);
    expect(out.buffer).toBe(buffer.buffer);
    expect(Array.from(out)).toEqual([1, 2, 3, 4]);
  });
});

describe("colouring values", () => {
  it("maps 0 to the first colour, the scale to the last, and NaN to the empty colour", () => {
    const table = new Uint8ClampedArray(768);
    table.set([10, 20, 30], 0);
    table.set([200, 210, 220], 765);
    const pixels = new Uint8ClampedArray(12);
    paintValues([0, 0.5, Number.NaN], 3, 0.5, table, [1, 2, 3], pixels);
    expect(Array.from(pixels)).toEqual([10, 20, 30, 255, 200, 210, 220, 255, 1, 2, 3, 255]);
  });
});

describe("scales and numbers", () => {
  it("ticks at round values up to the max", () => {
    expect(niceTicks(0.572, 5)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(niceTicks(1, 4)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0)).toEqual([0]);
    expect(integerTicks(0, 512, 5)).toEqual([0, 100, 200, 300, 400, 500]);
    expect(integerTicks(96, 26, 3)).toEqual([100, 110, 120]);
  });

  it("write weights as percentages and precise numbers", () => {
    expect(percent(0.2314)).toBe("23.1%");
    expect(percent(0.0042)).toBe("0.42%");
    expect(precise(0.2314)).toBe("0.2314");
    expect(precise(0.00003)).toBe("3.00e-5");
    expect(percentTick(0.1)).toBe("10%");
    expect(percentTick(0.025)).toBe("2.5%");
  });
});
