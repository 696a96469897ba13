import { describe, expect, it, vi } from "vitest";
import { fitCells, MAX_ANSWER_VALUES, MAX_IN_FLIGHT } from "../data/longAttention";
import type { LongMessage } from "../data/protocol";
import { answer, connectLongInput as setUp, floats, N } from "../testing/longInput";
import { NO_ANSWER_MS } from "./late";

describe("long inputs on the page", () => {
  it("asks for no layers, and asks Python once for each thing a panel draws", () => {
    const { long, view, requests, model } = setUp();
    expect(model.sent.filter((message) => message.type === "layers")).toEqual([]);
    const layer = view().current!;
    expect(layer.ready).toBe(true); // every layer is there, on demand
    expect(long().line(layer.layer, [0, 2], "row", 4)).toBeNull();
    expect(long().line(layer.layer, [0, 2], "row", 4)).toBeNull(); // asked once, not twice
    expect(long().tile(1, [0, 2], [0, N], [0, N], [3, 3])).toBeNull();
    expect(requests()).toEqual([
      { type: "long", version: 3, stack: "self", id: 1, what: "line", layer: 1, heads: [0, 2], axis: "row", index: 4 },
      { type: "long", version: 3, stack: "self", id: 2, what: "tile", layer: 1, heads: [0, 2], rows: [0, N], cols: [0, N], size: [3, 3] },
    ]);
  });

  it("keeps an answer, repaints, and serves the next draw from the cache", () => {
    const { long, requests, model, store } = setUp();
    long().line(1, [0, 2], "row", 4);
    const revision = store.get().dataRevision;
    model.pythonSends(...answer(requests()[0]!, [N], [floats([0.1, 0.2, 0.3, 0.4, 0, 0])]));
    store.flush();
    expect(store.get().dataRevision).toBe(revision + 1);
    expect(Array.from(long().line(1, [0, 2], "row", 4)!)).toEqual(Array.from(new Float32Array([0.1, 0.2, 0.3, 0.4, 0, 0])));
    expect(requests()).toHaveLength(1);
  });

  it("says what is wrong with a malformed answer and keeps drawing", () => {
    const { long, requests, model, store } = setUp();
    long().line(0, [1], "col", 2);
    model.pythonSends(...answer(requests()[0]!, [N], [floats([1, 2])]));
    store.flush();
    expect(store.get().error).toMatch(/could not read the long input's line: a line answer of 8 bytes, expected 24/);
    model.pythonSends({ type: "long", version: 3, stack: "self", id: 99, what: "line", shape: [N] } as LongMessage, [floats([0, 0, 0, 0, 0, 0])]);
    expect(store.get().dataRevision).toBeGreaterThan(0); // an answer nobody asked for changes nothing, throws nothing
  });

  it("shows Python's error and does not ask again", () => {
    const { long, requests, model, store } = setUp();
    long().thumbnails(0, 4);
    model.pythonSends(...answer(requests()[0]!, [], [], { error: "this input's attention is sent whole: ask for layers" }));
    store.flush();
    expect(store.get().error).toContain("ask for layers");
    long().thumbnails(0, 4);
    expect(requests()).toHaveLength(1);
  });

  it("says the data was not saved when no kernel answers", () => {
    vi.useFakeTimers();
    try {
      const { long, store, stop } = setUp();
      long().line(0, [0], "row", 0);
      vi.advanceTimersByTime(NO_ANSWER_MS + 10);
      store.flush();
      expect(store.get().layersUnanswered).toBe(true);
      stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps at most a few requests with Python and sends the newest waiting one next", () => {
    const { long, requests, model } = setUp();
    for (let row = 0; row < 10; row++) long().line(0, [0], "row", row); // a sweep of hovers
    expect(requests().map((request) => request.index)).toEqual([0, 1, 2, 3].slice(0, MAX_IN_FLIGHT));
    model.pythonSends(...answer(requests()[0]!, [N], [floats([0, 0, 0, 0, 0, 0])]));
    expect(requests().at(-1)!.index).toBe(9); // the row under the pointer now, not the oldest
  });

  it("sends the heatmap's tile before the thumbnails waiting with it", () => {
    const { long, requests, model } = setUp();
    for (let layer = 0; layer < 2; layer++) long().thumbnails(layer, 4);
    for (let row = 0; row < 2; row++) long().line(0, [0], "row", row);
    long().thumbnails(1, 8);
    long().tile(1, [0], [0, N], [0, N], [3, 3]);
    expect(requests().map((request) => request.what)).toEqual(["thumbs", "thumbs", "line", "line"]);
    model.pythonSends(...answer(requests()[0]!, [3, 4, 4], [floats(Array(48).fill(0))]));
    expect(requests().at(-1)!.what).toBe("tile");
  });

  it("when idle, fetches the heatmap's tile for the other layers, so a layer change finds it", () => {
    const { long, requests, model } = setUp();
    long().tile(1, [0, 2], [0, N], [0, N], [3, 3]);
    model.pythonSends(...answer(requests()[0]!, [3, 3], [floats(Array(9).fill(0.1))]));
    const prefetch = requests()[1]!;
    expect(prefetch).toMatchObject({ what: "tile", layer: 0, heads: [0, 2], rows: [0, N], cols: [0, N], size: [3, 3] });
    model.pythonSends(...answer(prefetch, [3, 3], [floats(Array(9).fill(0.2))]));
    expect(long().tile(0, [0, 2], [0, N], [0, N], [3, 3])!.values[0]).toBeCloseTo(0.2);
    expect(requests()).toHaveLength(2); // two layers, both here: nothing more to fetch
  });

  it("fits a tile to one answer, keeping its proportions", () => {
    expect(fitCells(440, 600)).toEqual([438, 597]); // 264,000 cells would be over 1 MiB of float32
    expect(fitCells(300, 200)).toEqual([300, 200]);
    const [rows, cols] = fitCells(5000, 5000);
    expect(rows * cols).toBeLessThanOrEqual(MAX_ANSWER_VALUES);
  });
});
