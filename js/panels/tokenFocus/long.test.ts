import { describe, expect, it } from "vitest";
import { answer, connectLongInput, floats, N } from "../../testing/longInput";
import { longFocusDistribution } from "./long";

describe("the token focus of a long input", () => {
  it("asks Python once for the focus token's row and reads the answer", () => {
    const { view, requests, model } = connectLongInput();
    const layer = view().current!;
    expect(longFocusDistribution(layer, [0, 2], "row", 4)).toBeNull();
    expect(longFocusDistribution(layer, [0, 2], "row", 4)).toBeNull(); // asked once, not twice
    expect(requests()).toEqual([{ type: "long", version: 3, stack: "self", id: 1, what: "line", layer: 1, heads: [0, 2], axis: "row", index: 4 }]);
    model.pythonSends(...answer(requests()[0]!, [N], [floats([0.1, 0.2, 0.3, 0.4, 0, 0])]));
    expect(Array.from(longFocusDistribution(layer, [0, 2], "row", 4)!)).toEqual(Array.from(new Float32Array([0.1, 0.2, 0.3, 0.4, 0, 0])));
    expect(longFocusDistribution(layer, [], "row", 4)).toBeNull(); // no head selected: nothing to ask
  });
});
