import { afterEach, describe, expect, it } from "vitest";
import { causalMaskStart } from "../../shared/causalMask";
import { makeContext, makeView, mount, quantError, randomWeights, type Weights } from "../../testing/fixtures";
import { heatmapCaption, heatmapCells } from "./cells";
import { cellAt, heatmapLayout, zoomAround } from "./geometry";
import { createHeatmap } from "./index";

/** One layer, two heads, three tokens, with weights we can read back. */
const known: Weights = [
  [
    [
      [0.5, 0.3, 0.2],
      [0.1, 0.8, 0.1],
      [0.25, 0.25, 0.5],
    ],
    [
      [1, 0, 0],
      [0.6, 0.4, 0],
      [0.2, 0.2, 0.6],
    ],
  ],
];

afterEach(() => document.body.replaceChildren());

describe("heatmap cells", () => {
  it("are the attention weights of the selected head", () => {
    const { view } = makeView({ weights: known });
    const cells = heatmapCells(view.current!, [1])!;
    expect([cells.rows, cells.cols]).toEqual([3, 3]);
    known[0]![1]!.forEach((row, r) => row.forEach((weight, c) => expect(cells.values[r * 3 + c]).toBeCloseTo(weight, 2)));
    expect(cells.max).toBeCloseTo(1, 5);
  });

  it("are the mean over the selected heads when several are selected", () => {
    const { view } = makeView({ weights: known });
    const cells = heatmapCells(view.current!, [0, 1])!;
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        const mean = (known[0]![0]![r]![c]! + known[0]![1]![r]![c]!) / 2;
        expect(Math.abs(cells.values[r * 3 + c]! - mean)).toBeLessThanOrEqual(quantError());
      }
    }
  });

  it("ignore heads the stack does not have, and are null with none selected or before the layer arrives", () => {
    const { view } = makeView({ weights: known });
    expect(heatmapCells(view.current!, [1, 7])!.values).toEqual(heatmapCells(view.current!, [1])!.values);
    expect(heatmapCells(view.current!, [])).toBeNull();
    const missing = makeView({ weights: known, missing: [0] }).view;
    expect(heatmapCells(missing.current!, [0])).toBeNull();
  });

  it("leave the causal upper triangle empty, and the mask covers exactly the later tokens", () => {
    const weights = randomWeights(1, 2, 6, 6, { causal: true });
    const { view } = makeView({ weights, causal: true });
    const cells = heatmapCells(view.current!, [0, 1])!;
    for (let r = 0; r < 6; r++) for (let c = r + 1; c < 6; c++) expect(cells.values[r * 6 + c]).toBe(0);
    expect(Array.from(causalMaskStart(view.current!)!)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("keep the mask in token order when special tokens are hidden", () => {
    const weights = randomWeights(1, 1, 5, 5, { causal: true });
    const { view } = makeView({ weights, causal: true, special: [true, false, false, false, false] }, { hideSpecial: true });
    // Visible tokens 1..4: row of token 1 masks from the column of token 2 (position 1).
    expect(Array.from(causalMaskStart(view.current!)!)).toEqual([1, 2, 3, 4]);
    expect(causalMaskStart(makeView({ weights }).view.current!)).toBeNull();
  });

  it("of cross-attention are rows × columns, not square", () => {
    const weights = randomWeights(1, 2, 3, 5);
    const { view } = makeView({ weights, name: "cross", rows: ["d0", "d1", "d2"], cols: ["e0", "e1", "e2", "e3", "e4"] });
    const cells = heatmapCells(view.current!, [0])!;
    expect([cells.rows, cells.cols, cells.values.length]).toEqual([3, 5, 15]);
  });
});

describe("heatmap caption", () => {
  it("names the head, or says it is a mean", () => {
    expect(heatmapCaption(2, [5], 12)).toBe("Layer 2 · head 5");
    expect(heatmapCaption(2, [0, 1, 2], 12)).toBe("Layer 2 · mean of 3 heads");
    expect(heatmapCaption(2, Array.from({ length: 12 }, (_, h) => h), 12)).toBe("Layer 2 · mean of all 12 heads");
    expect(heatmapCaption(0, [], 12)).toMatch(/no head selected/);
  });
});

describe("heatmap geometry", () => {
  it("gives small matrices whole device pixels per cell", () => {
    for (const dpr of [1, 1.5, 2]) {
      const layout = heatmapLayout(400, 11, 11, 7, dpr);
      expect(Number.isInteger((layout.plotWidth * dpr) / 11)).toBe(true);
      expect(layout.plotWidth).toBe(layout.plotHeight);
    }
  });

  it("fits large matrices in the width", () => {
    const layout = heatmapLayout(400, 2048, 2048, 8, 2);
    expect(layout.gutter + layout.plotWidth).toBeLessThanOrEqual(400);
  });

  it("zooms around the point under the cursor and stays inside the matrix", () => {
    const full = { r0: 0, c0: 0, rows: 512, cols: 512 };
    const zoomed = zoomAround(full, 512, 512, 4, 0.25, 0.75);
    expect([zoomed.rows, zoomed.cols]).toEqual([128, 128]);
    // The cell at 25 % across and 75 % down stays at the same fraction of the plot.
    expect(zoomed.c0 + 0.25 * zoomed.cols).toBeCloseTo(128, 0);
    expect(zoomed.r0 + 0.75 * zoomed.rows).toBeCloseTo(384, 0);
    expect(zoomAround(zoomed, 512, 512, 0.001, 0.5, 0.5)).toEqual(full);
    const corner = zoomAround(full, 512, 512, 1e6, 1, 1);
    expect(corner.r0 + corner.rows).toBe(512);
    expect(corner.rows).toBeGreaterThanOrEqual(6);
  });

  it("finds the cell under a point of the zoomed plot", () => {
    const window = { r0: 10, c0: 20, rows: 4, cols: 8 };
    expect(cellAt(window, 80, 40, 0, 0)).toEqual({ r: 10, c: 20 });
    expect(cellAt(window, 80, 40, 79.9, 39.9)).toEqual({ r: 13, c: 27 });
    expect(cellAt(window, 80, 40, 80, 10)).toBeNull();
  });
});

describe("heatmap panel", () => {
  const tokens = ["[CLS]", "<script>alert(1)</script>", 'say "hi"', "שלום", "[SEP]"];
  const weights = randomWeights(2, 3, 5, 5);

  it("labels rows and columns with the tokens as text, never HTML", () => {
    const { state, view } = makeView({ weights, rows: tokens, special: [true, false, false, false, true] });
    const panel = mount(createHeatmap(makeContext()), state, view);
    const rows = panel.element.querySelectorAll("[data-testid=heatmap-row-label]");
    // Long tokens are shortened on screen; the full text is the title.
    expect(Array.from(rows, (label) => (label as HTMLElement).title)).toEqual(tokens);
    expect(rows[1]!.textContent).toBe("<script>alert…");
    expect(panel.element.querySelector("script")).toBeNull();
    expect(panel.element.querySelector("[data-testid=heatmap-caption]")!.textContent).toContain("mean of all 3 heads");
  });

  it("focuses a row token from its label, a column token as attended by", () => {
    const context = makeContext();
    const { state, view } = makeView({ weights, rows: tokens });
    const panel = mount(createHeatmap(context), state, view);
    (panel.element.querySelectorAll("[data-testid=heatmap-row-label]")[2] as HTMLElement).click();
    expect(context.actions.update).toHaveBeenLastCalledWith({ focus: 2, direction: "attends_to" });
    (panel.element.querySelectorAll("[data-testid=heatmap-col-label]")[3] as HTMLElement).click();
    expect(context.actions.update).toHaveBeenLastCalledWith({ focus: 3, direction: "attended_by" });
  });

  it("marks the focus and hovered labels without rebuilding them", () => {
    const { state, view } = makeView({ weights, rows: tokens });
    const panel = mount(createHeatmap(makeContext()), state, view);
    const before = panel.element.querySelectorAll("[data-testid=heatmap-row-label]")[1];
    panel.draw({ ...state, focus: 1, hover: { axis: "col", index: 4 } }, view);
    const rows = panel.element.querySelectorAll("[data-testid=heatmap-row-label]");
    expect(rows[1]).toBe(before);
    expect(rows[1]!.classList.contains("is-focus")).toBe(true);
    expect(panel.element.querySelectorAll("[data-testid=heatmap-col-label]")[4]!.classList.contains("is-hover")).toBe(true);
  });

  it("shows position ticks instead of token labels for long inputs", () => {
    const long = randomWeights(1, 1, 100, 100);
    const { state, view } = makeView({ weights: long });
    const panel = mount(createHeatmap(makeContext()), state, view);
    expect(panel.element.querySelectorAll("[data-testid=heatmap-row-label]")).toHaveLength(0);
    expect(panel.element.querySelectorAll(".aw-hm-tick-label").length).toBeGreaterThan(0);
    expect(panel.element.querySelector<HTMLElement>(".aw-hm-tools")!.hidden).toBe(false);
  });

  it("says when the layer is still loading", () => {
    const { state, view } = makeView({ weights, missing: [1] }, { layer: 1 });
    const panel = mount(createHeatmap(makeContext()), state, view);
    expect(panel.element.querySelector("[data-testid=heatmap-caption]")!.textContent).toMatch(/loading layer/i);
  });

  it("says a layer was not saved when no kernel answers for it", () => {
    const { state, view } = makeView({ weights, missing: [1] }, { layer: 1, layersUnanswered: true });
    const panel = mount(createHeatmap(makeContext()), state, view);
    const caption = panel.element.querySelector("[data-testid=heatmap-caption]")!.textContent;
    expect(caption).toContain("layer 1 was not saved with this notebook: use `stream=False` or `w.save_html()`");
  });
});
