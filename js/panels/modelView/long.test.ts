import { describe, expect, it } from "vitest";
import { answer, connectLongInput, floats } from "../../testing/longInput";
import { longThumbnailValues } from "./long";

describe("the model view of a long input", () => {
  it("resamples a smaller thumbnail to the screen's cells", () => {
    const { view, requests, model } = connectLongInput();
    const layer = view().current!;
    expect(longThumbnailValues(layer, 1, 4, 4, null)).toBeNull();
    const thumbs = Array.from({ length: 3 * 2 * 2 }, (_, i) => i);
    model.pythonSends(...answer(requests()[0]!, [3, 2, 2], [floats(thumbs)]));
    const values = longThumbnailValues(layer, 1, 4, 4, null)!;
    expect(Array.from(values.subarray(0, 4))).toEqual([4, 4, 5, 5]);
    expect(Array.from(values.subarray(12, 16))).toEqual([6, 6, 7, 7]);
  });
});
