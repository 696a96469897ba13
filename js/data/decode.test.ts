import { describe, expect, it } from "vitest";
import { decodeBuffer, toDataView } from "./decode";

describe("decoding a buffer", () => {
  it("views aligned bytes in place, without a copy", () => {
    const source = new Float32Array([1.5, -2, 3.25, 4]);
    const array = decodeBuffer("float32", [2, 2], new DataView(source.buffer));
    expect(array).toBeInstanceOf(Float32Array);
    expect(array.buffer).toBe(source.buffer);
    expect(Array.from(array)).toEqual([1.5, -2, 3.25, 4]);
    source[0] = 9;
    expect(array[0]).toBe(9);
  });

  it("views an aligned slice of a larger message buffer at its offset", () => {
    const bytes = new Uint8Array(16);
    new Float32Array(bytes.buffer, 8, 2).set([7, 8]);
    const array = decodeBuffer("float32", [2], new DataView(bytes.buffer, 8, 8));
    expect(array.buffer).toBe(bytes.buffer);
    expect(Array.from(array)).toEqual([7, 8]);
  });

  it("copies misaligned bytes, and still reads the right values", () => {
    const bytes = new Uint8Array(1 + 8);
    const values = new Float32Array([0.25, -1]);
    bytes.set(new Uint8Array(values.buffer), 1);
    const array = decodeBuffer("float32", [2], new DataView(bytes.buffer, 1, 8));
    expect(array.buffer).not.toBe(bytes.buffer);
    expect(Array.from(array)).toEqual([0.25, -1]);
  });

  it("throws when the size does not match the shape", () => {
    expect(() => decodeBuffer("uint8", [2, 3], new DataView(new ArrayBuffer(5)))).toThrow(/does not hold uint8 \[2, 3\]/);
    expect(() => decodeBuffer("float32", [2], new DataView(new ArrayBuffer(4)))).toThrow();
  });

  it("accepts ArrayBuffers and typed arrays as well as DataViews", () => {
    const typed = new Uint8Array([0, 1, 2, 3]).subarray(1);
    const view = toDataView(typed);
    expect([view.byteOffset, view.byteLength]).toEqual([1, 3]);
    expect(toDataView(new ArrayBuffer(4)).byteLength).toBe(4);
  });
});
