import { describe, expect, it } from "vitest";
import { answer, connectLongInput, floats, N } from "../../testing/longInput";
import { longHeadViewLines } from "./long";

describe("the head view of a long input", () => {
  it("draws each row's strongest keys above the floor, inside the window", () => {
    const { view, requests, model } = connectLongInput();
    const layer = view().current!;
    expect(longHeadViewLines(layer, [1], 0.05, 2, [0, N], [0, N], null)).toEqual([]);
    const keys = new Int32Array([0, 1, 1, 0, 2, 1, 3, 2, 4, 3, 5, 4]);
    const weights = [1, 0, 0.9, 0.1, 0.6, 0.3, 0.5, 0.2, 0.4, 0.01, 0.3, 0.2];
    model.pythonSends(...answer(requests()[0]!, [N, 2], [new DataView(keys.buffer), floats(weights)], { rows: [0, N] }));
    const lines = longHeadViewLines(layer, [1], 0.05, 2, [2, 4], [0, 3], null);
    expect(lines.map(({ r, c }) => [r, c])).toEqual([[2, 2], [2, 1], [3, 2]]); // (3, 3) is outside the columns
  });
});
