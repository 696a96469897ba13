import { describe, expect, it } from "vitest";
import { colormapTable, headColor, parseColor, weightColormap } from "./colors";
import { lightTheme } from "../testing/fixtures";

function distance(a: string, b: string): number {
  const [r1, g1, b1] = parseColor(a);
  const [r2, g2, b2] = parseColor(b);
  return Math.hypot(r1 - r2, g1 - g2, b1 - b2);
}

describe("head colours", () => {
  it.each([8, 12, 16, 20, 32])("are all different for %i heads, and neighbours differ clearly", (heads) => {
    const colors = Array.from({ length: heads }, (_, head) => headColor(head, heads));
    expect(new Set(colors).size).toBe(heads);
    for (let head = 1; head < heads; head++) expect(distance(colors[head - 1]!, colors[head]!)).toBeGreaterThan(60);
  });
});

describe("the weight colormap", () => {
  it("runs from light to dark on a light theme, and the other way on a dark one", () => {
    const brightness = (color: string) => parseColor(color).reduce((a, b) => a + b, 0);
    const light = weightColormap(lightTheme);
    expect(brightness(light(0))).toBeGreaterThan(brightness(light(1)));
    const dark = weightColormap({ ...lightTheme, dark: true });
    expect(brightness(dark(0))).toBeLessThan(brightness(dark(1)));
  });

  it("is a table of 256 RGB colours", () => {
    const table = colormapTable(weightColormap(lightTheme));
    expect(table).toHaveLength(768);
    expect(Array.from(table.subarray(765))).toEqual(parseColor(weightColormap(lightTheme)(1)));
  });
});
