import { describe, expect, it } from "vitest";
import { HeadQueries } from "./queries";

describe("HeadQueries", () => {
  it("is complete once every row of every part arrived", () => {
    const queries = new HeadQueries(1, "self", 0, 0, 0, 1, 2, 2, 1, false);
    expect(queries.complete).toBe(false);
    queries.add("q", 0, 2, new DataView(new Float32Array([1, 2]).buffer));
    queries.add("k", 0, 2, new DataView(new Float32Array([3, 4]).buffer));
    expect(queries.complete).toBe(true);
    expect(Array.from(queries.key(1))).toEqual([4]);
  });

  it("refuses blocks that do not fit and headers of impossible sizes", () => {
    const queries = new HeadQueries(1, "self", 0, 0, 0, 1, 2, 2, 1, false);
    expect(() => queries.add("q", 1, 3, new DataView(new ArrayBuffer(8)))).toThrow(/does not fit/);
    expect(() => queries.add("q", 0, 2, new DataView(new ArrayBuffer(4)))).toThrow(/4 bytes, expected 8/);
    expect(() => queries.add("bias", 0, 1, new DataView(new ArrayBuffer(8)))).toThrow(/does not fit/);
    const header = { type: "qk" as const, version: 1, stack: "self", layer: 0, head: 0, key_head: 0, scale: 1, rows: -1, cols: 2, d_head: 4 };
    expect(() => HeadQueries.fromHeader(header)).toThrow(/unexpected size/);
    expect(() => HeadQueries.fromHeader({ ...header, rows: 2, scale: Number.NaN })).toThrow(/finite scale/);
  });
});
