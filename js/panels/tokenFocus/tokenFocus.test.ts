import { afterEach, describe, expect, it } from "vitest";
import { makeContext, makeView, mount, quantError, randomWeights, sum, type Weights } from "../../testing/fixtures";
import { heatmapCells } from "../heatmap/cells";
import { focusBars, focusDistribution, focusStrip } from "./distribution";
import { createTokenFocus } from "./index";
import { TOP_BARS } from "./list";
import { focusTarget } from "./target";

const tokens = ["[CLS]", "the", "bank", "<b>money</b>", "[SEP]"];
const special = [true, false, false, false, true];
/**
 * Two layers, two heads: row 2 ("bank") of layer 0 is spelled out, in multiples
 * of 0.51 / 255 so that the 8-bit codes hold them exactly.
 */
const weights: Weights = randomWeights(2, 2, 5, 5, { seed: 3 });
weights[0]![0]![2] = [0.1, 0.05, 0.14, 0.51, 0.2];
weights[0]![1]![2] = [0.2, 0.1, 0.1, 0.51, 0.09];

afterEach(() => document.body.replaceChildren());

describe("focus bars", () => {
  it("are the focus row's mean weights, sorted, summing to 100 % of the visible tokens", () => {
    const { view } = makeView({ weights, rows: tokens, special });
    const { bars, total } = focusBars(view.current!, [0, 1], "row", 2)!;
    expect(bars.map((bar) => bar.index)).toEqual([3, 0, 4, 2, 1]); // 0.51, 0.15, 0.145, 0.12, 0.075
    expect(bars[0]!.weight).toBeCloseTo(0.51, 5);
    expect(total).toBeCloseTo(1, 2);
    expect(sum(bars.map((bar) => bar.share))).toBeCloseTo(1, 6);
    for (let i = 1; i < bars.length; i++) expect(bars[i - 1]!.share).toBeGreaterThanOrEqual(bars[i]!.share);
  });

  it("still sum to 100 % when special tokens are hidden (rows renormalised over the visible ones)", () => {
    const { view } = makeView({ weights, rows: tokens, special }, { hideSpecial: true });
    const position = view.visibleRow(2);
    const { bars } = focusBars(view.current!, [0, 1], "row", position)!;
    expect(bars.map((bar) => bar.index)).toEqual([3, 2, 1]);
    expect(sum(bars.map((bar) => bar.share))).toBeCloseTo(1, 6);
    // Each head's row renormalised over "the", "bank", "money" (0.7 and 0.71 of it), then averaged.
    expect(bars[0]!.share).toBeCloseTo((0.51 / 0.7 + 0.51 / 0.71) / 2, 5);
  });

  it("are shares of the visible tokens under a pair filter, and say how much the visible tokens get", () => {
    const pair = randomWeights(1, 1, 6, 6, { seed: 9 });
    const { view } = makeView({ weights: pair, bStart: 3 }, { pairFilter: "ab" });
    const { bars, total } = focusBars(view.current!, [0], "row", 0)!;
    expect(bars.map((bar) => bar.index).sort()).toEqual([3, 4, 5]);
    expect(sum(bars.map((bar) => bar.share))).toBeCloseTo(1, 6);
    expect(total).toBeCloseTo(pair[0]![0]![0]!.slice(3).reduce((a, b) => a + b, 0), 2);
  });

  it("for 'attended by' read the focus token's column: how much each token gives it", () => {
    const { view } = makeView({ weights, rows: tokens });
    const column = focusDistribution(view.current!, [0, 1], "col", 3)!;
    const cells = heatmapCells(view.current!, [0, 1])!;
    expect(column).toHaveLength(5);
    column.forEach((value, r) => expect(value).toBeCloseTo(cells.values[r * 5 + 3]!, 5));
    const { bars } = focusBars(view.current!, [0, 1], "col", 3)!;
    expect(bars.find((bar) => bar.index === 2)!.share).toBeCloseTo(0.51, 5); // "bank" gives it 51 %, not a share of anything
    for (let i = 1; i < bars.length; i++) expect(bars[i - 1]!.share).toBeGreaterThanOrEqual(bars[i]!.share);
  });

  it("agree with the heatmap for the row", () => {
    const { view } = makeView({ weights });
    const row = focusDistribution(view.current!, [1], "row", 4)!;
    row.forEach((value, c) => expect(Math.abs(value - weights[0]![1]![4]![c]!)).toBeLessThanOrEqual(quantError()));
  });
});

describe("focus strip", () => {
  it("has one row per layer, null for layers still loading", () => {
    const { view } = makeView({ weights: randomWeights(4, 2, 5, 5), missing: [2] });
    const strip = focusStrip(view, [0, 1], "row", 1);
    expect(strip).toHaveLength(4);
    expect(strip.map((row) => row === null)).toEqual([false, false, true, false]);
    expect(strip[3]).toHaveLength(5);
  });
});

describe("the focus token", () => {
  it("is the hovered token (a preview), else the clicked one, else a hint", () => {
    const { state, view } = makeView({ weights, rows: tokens });
    expect(focusTarget(state, view)).toEqual({ hint: "Click a token to focus it." });
    expect(focusTarget({ ...state, focus: 2 }, view)).toEqual({ index: 2, axis: "row", position: 2, preview: false });
    expect(focusTarget({ ...state, focus: 2, hover: { axis: "row", index: 1 } }, view)).toMatchObject({ index: 1, preview: true });
  });

  it("ignores a hover the panel set itself from its bars", () => {
    const { state, view } = makeView({ weights, rows: tokens });
    const hover = { axis: "col" as const, index: 3 };
    expect(focusTarget({ ...state, focus: 2, hover }, view, hover)).toMatchObject({ index: 2, preview: false });
  });

  it("maps a token on the other axis to the same index in self-attention", () => {
    const { state, view } = makeView({ weights, rows: tokens });
    expect(focusTarget({ ...state, direction: "attended_by", focus: 2 }, view)).toMatchObject({ index: 2, axis: "col", position: 2 });
    expect(focusTarget({ ...state, hover: { axis: "col", index: 4 } }, view)).toMatchObject({ index: 4, axis: "row" });
  });

  it("has no counterpart on the other axis in cross-attention", () => {
    const cross = makeView({ weights: randomWeights(1, 1, 3, 4), name: "cross" });
    const hover = { axis: "col" as const, index: 3 };
    expect(focusTarget({ ...cross.state, hover }, cross.view)).toEqual({ hint: "Click a token to focus it." });
    expect(focusTarget({ ...cross.state, hover, focus: 1 }, cross.view)).toMatchObject({ index: 1, axis: "row", preview: false });
  });

  it("says so when the focus token is hidden", () => {
    const { state, view } = makeView({ weights, rows: tokens, special }, { hideSpecial: true, focus: 0 });
    expect(focusTarget(state, view)).toEqual({ hint: expect.stringMatching(/hidden/) });
  });
});

describe("token focus panel", () => {
  it("shows a hint until a token is focused", () => {
    const { state, view } = makeView({ weights, rows: tokens });
    const panel = mount(createTokenFocus(makeContext()), state, view);
    expect(panel.element.textContent).toContain("Click a token to focus it.");
    expect(panel.element.querySelectorAll("[data-testid=focus-bar]")).toHaveLength(0);
  });

  it("lists the bars as text with percentages, tokens never parsed as HTML", () => {
    const { state, view } = makeView({ weights, rows: tokens }, { focus: 2, heads: [0, 1] });
    const panel = mount(createTokenFocus(makeContext()), state, view);
    const bars = Array.from(panel.element.querySelectorAll<HTMLElement>("[data-testid=focus-bar]"));
    expect(bars.map((bar) => bar.dataset.index)).toEqual(["3", "0", "4", "2", "1"]);
    expect(bars[0]!.querySelector(".aw-tf-name")!.textContent).toBe("<b>money</b>");
    expect(bars[0]!.querySelector("b")).toBeNull();
    expect(bars[0]!.querySelector(".aw-tf-value")!.textContent).toBe("51.0%");
    expect(panel.element.querySelector("[data-testid=focus-token]")!.textContent).toBe("bank");
  });

  it("says that a causal token only attends to itself and earlier tokens", () => {
    const { state, view } = makeView({ weights: randomWeights(1, 1, 4, 4, { causal: true }), causal: true }, { focus: 2 });
    const panel = mount(createTokenFocus(makeContext()), state, view);
    expect(panel.element.textContent).toContain("only attends to itself and earlier tokens");
    expect(panel.element.querySelectorAll("[data-testid=focus-bar]")).toHaveLength(4);
  });

  it("shows the top 10 and the rest behind a toggle", () => {
    const { state, view } = makeView({ weights: randomWeights(1, 1, 25, 25) }, { focus: 0 });
    const panel = mount(createTokenFocus(makeContext()), state, view);
    const more = panel.element.querySelector<HTMLButtonElement>("[data-testid=focus-more]")!;
    expect(panel.element.querySelectorAll("[data-testid=focus-bar]")).toHaveLength(TOP_BARS);
    expect(more.textContent).toBe("show 15 more");
    more.click();
    expect(panel.element.querySelectorAll("[data-testid=focus-bar]")).toHaveLength(25);
  });

  it("switches direction with the toggle, and clears a cross-attention focus that has no column", () => {
    const context = makeContext();
    const { state, view } = makeView({ weights, rows: tokens }, { focus: 2 });
    const panel = mount(createTokenFocus(context), state, view);
    const [attendsTo, attendedBy] = Array.from(panel.element.querySelectorAll<HTMLButtonElement>("[data-testid=direction-toggle] button"));
    expect(attendsTo!.getAttribute("aria-pressed")).toBe("true");
    attendedBy!.click();
    expect(context.actions.update).toHaveBeenLastCalledWith({ direction: "attended_by" });

    const crossContext = makeContext();
    const cross = makeView({ weights: randomWeights(1, 1, 3, 4), name: "cross" }, { focus: 1 });
    const crossPanel = mount(createTokenFocus(crossContext), cross.state, cross.view);
    crossPanel.element.querySelector<HTMLButtonElement>("[data-direction=attended_by]")!.click();
    expect(crossContext.actions.update).toHaveBeenLastCalledWith({ direction: "attended_by", focus: null });
  });

  it("hovers and focuses the token of a bar", () => {
    const context = makeContext();
    const { state, view } = makeView({ weights, rows: tokens }, { focus: 2 });
    const panel = mount(createTokenFocus(context), state, view);
    const bar = panel.element.querySelector<HTMLElement>("[data-testid=focus-bar]")!;
    bar.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    expect(context.actions.update).toHaveBeenLastCalledWith({ hover: { axis: "col", index: 3 } });
    // The hover came from the list itself: the list stays on "bank" rather than jumping to the hovered token.
    panel.draw({ ...state, hover: { axis: "col", index: 3 } }, view);
    expect(panel.element.querySelector("[data-testid=focus-token]")!.textContent).toBe("bank");
    expect(panel.element.querySelector("[data-testid=focus-bar]")!.classList.contains("is-hover")).toBe(true);
    bar.click();
    expect(context.actions.update).toHaveBeenLastCalledWith({ focus: 3, hover: null });
  });

  it("follows a focus change (a click, an arrow key) even while the pointer rests on another token", () => {
    const { state, view } = makeView({ weights, rows: tokens });
    const panel = mount(createTokenFocus(makeContext()), { ...state, hover: { axis: "row", index: 2 } }, view);
    const shown = () => panel.element.querySelector("[data-testid=focus-token]")!.textContent;
    expect(shown()).toBe("bank"); // a preview of the hovered token
    panel.draw({ ...state, focus: 2, hover: { axis: "row", index: 2 } }, view); // clicked it
    panel.draw({ ...state, focus: 3, hover: { axis: "row", index: 2 } }, view); // arrow key to the next token
    expect(shown()).toBe("<b>money</b>");
    panel.draw({ ...state, focus: 3, hover: { axis: "row", index: 1 } }, view); // the pointer moves on: preview again
    expect(shown()).toBe("the");
  });

  it("says the layer is loading, and keeps the strip, while a layer streams in", () => {
    const { state, view } = makeView({ weights, rows: tokens, missing: [1] }, { focus: 2, layer: 1 });
    const panel = mount(createTokenFocus(makeContext()), state, view);
    expect(panel.element.textContent).toMatch(/loading layer/i);
    expect(panel.element.querySelector<HTMLElement>(".aw-tf-stripbox")!.hidden).toBe(false);
  });
});
