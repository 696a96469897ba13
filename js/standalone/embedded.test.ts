import { describe, expect, it } from "vitest";
import { base64Bytes, inflate, resolveBuffers } from "./embedded";

describe("embedded state", () => {
  const bytes = Uint8Array.from([0, 1, 2, 3, 250, 251, 252, 253]);

  it("reads base64 back to the same bytes", () => {
    expect([...base64Bytes(btoa(String.fromCharCode(...bytes)))]).toEqual([...bytes]);
  });

  it("inflates gzip with the browser's DecompressionStream", async () => {
    const gzipped = await new Response(new Response(bytes).body!.pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
    const inflated = await inflate(new Uint8Array(gzipped), "gzip");
    expect([...new Uint8Array(inflated)]).toEqual([...bytes]);
  });

  it("replaces buffer references with views over the blob, leaving the rest as it was", () => {
    const blob = bytes.buffer.slice(0) as ArrayBuffer;
    const resolved = resolveBuffers({ rows: ["a"], layers: { "0": { dtype: "uint8", buffer: { $buffer: [4, 4] } } } }, blob) as { rows: string[]; layers: Record<string, { buffer: DataView }> };
    expect(resolved.rows).toEqual(["a"]);
    const view = resolved.layers["0"]!.buffer;
    expect([...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)]).toEqual([250, 251, 252, 253]);
  });

  it("refuses a reference outside the blob", () => {
    expect(() => resolveBuffers({ $buffer: [6, 4] }, new ArrayBuffer(8))).toThrow(/outside the 8-byte data/);
  });
});
