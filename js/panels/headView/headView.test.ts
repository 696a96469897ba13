import { describe, expect, it } from "vitest";
import { makeView, type Weights } from "../../testing/fixtures";
import { headViewLines, LINE_FLOOR, LINES_PER_ROW } from "./lines";

/** Two heads over three tokens, weights in multiples of 1/255 of each row's max so they read back exactly. */
const weights: Weights = [
  [
    [
      [0.6, 0.4, 0],
      [0.2, 0.2, 0.6],
      [0, 0, 1],
    ],
    [
      [1, 0, 0],
      [0.5, 0.5, 0],
      [0.1, 0.3, 0.6],
    ],
  ],
];
const all: [number, number] = [0, 100];

describe("head view lines", () => {
  it("draw every selected head's weights at or above the threshold", () => {
    const { view } = makeView({ weights });
    const lines = headViewLines(view.current!, [0], 0.3, all, all, null);
    expect(lines.map(({ r, c }) => `${r}→${c}`)).toEqual(["0→0", "0→1", "1→2", "2→2"]);
    expect(lines.every((line) => line.head === 0 && line.weight >= 0.3)).toBe(true);
    expect(headViewLines(view.current!, [0, 1], 0.3, all, all, null).filter((line) => line.head === 1)).toHaveLength(5);
  });

  it("leave out zero weights even at threshold 0", () => {
    const { view } = makeView({ weights });
    expect(headViewLines(view.current!, [0], 0, all, all, null).some((line) => line.weight === 0)).toBe(false);
  });

  it("show only the hovered row's lines, or only the lines into the hovered column", () => {
    const { view } = makeView({ weights });
    const fromRow = headViewLines(view.current!, [0, 1], 0, all, all, { axis: "row", position: 1 });
    expect(fromRow.every((line) => line.r === 1)).toBe(true);
    expect(fromRow).toHaveLength(5);
    const intoCol = headViewLines(view.current!, [0, 1], 0, all, all, { axis: "col", position: 2 });
    expect(intoCol.every((line) => line.c === 2)).toBe(true);
    expect(intoCol.map(({ head, r }) => `${head}:${r}`)).toEqual(["0:1", "0:2", "1:2"]);
  });

  it("stay inside the row and column windows", () => {
    const { view } = makeView({ weights });
    const lines = headViewLines(view.current!, [0, 1], 0, [1, 2], [0, 2], null);
    expect(lines.every((line) => line.r === 1 && line.c < 2)).toBe(true);
  });

  it("are none while the layer is loading", () => {
    const { view } = makeView({ weights, missing: [0] });
    expect(headViewLines(view.current!, [0], 0, all, all, null)).toEqual([]);
  });

  it("keep each row's strongest lines and drop the invisible ones, so long inputs stay fast", () => {
    // One row spread over 40 tokens: 30 faint weights under the floor and 10 strong ones.
    const row = [...Array(30).fill(0.005), ...Array.from({ length: 10 }, (_, i) => 0.07 + i * 0.001)];
    const total = row.reduce((a, b) => a + b, 0);
    const { view } = makeView({ weights: [[[row.map((w) => w / total)]]], rows: ["a"], cols: row.map((_, i) => `t${i}`) });
    const lines = headViewLines(view.current!, [0], 0, all, all, null);
    expect(lines).toHaveLength(LINES_PER_ROW);
    expect(lines.every((line) => line.weight >= LINE_FLOOR)).toBe(true);
    expect(Math.min(...lines.map((line) => line.c))).toBe(40 - LINES_PER_ROW);
  });
});
