import { afterEach, describe, expect, it } from "vitest";
import { causalMaskStart } from "../../shared/causalMask";
import { makeContext, makeView, mount, quantError, randomWeights, type Weights } from "../../testing/fixtures";
import { heatmapCells } from "../heatmap/cells";
import { createModelView } from "./index";
import { thumbnailSize } from "./layout";
import { thumbnailValues } from "./thumbnails";

afterEach(() => document.body.replaceChildren());

/** An n × n identity per head: a one-token-wide diagonal, the pattern downsampling must not lose. */
function diagonal(n: number, layers = 1, heads = 1): Weights {
  return Array.from({ length: layers }, () =>
    Array.from({ length: heads }, () => Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => (r === c ? 1 : 0)))),
  );
}

describe("model-view thumbnails", () => {
  it("are the head's weights when no downsampling is needed", () => {
    const weights = randomWeights(1, 2, 6, 6);
    const { view } = makeView({ weights });
    const thumb = thumbnailValues(view.current!, 1, 6, 6)!;
    const cells = heatmapCells(view.current!, [1])!;
    thumb.forEach((value, i) => expect(Math.abs(value - cells.values[i]!)).toBeLessThanOrEqual(quantError()));
  });

  it("keep the max of each block when downsampled, so a thin diagonal survives", () => {
    const { view } = makeView({ weights: diagonal(100) });
    const thumb = thumbnailValues(view.current!, 0, 40, 40)!;
    for (let i = 0; i < 40; i++) {
      for (let j = 0; j < 40; j++) expect(thumb[i * 40 + j]).toBeCloseTo(i === j ? 1 : 0, 5);
    }
  });

  it("equal a max-pool of the mean matrix of one head, also with hidden special tokens", () => {
    const weights = randomWeights(1, 3, 30, 30, { seed: 5 });
    const special = Array.from({ length: 30 }, (_, i) => i === 0 || i === 29);
    const { view } = makeView({ weights, special }, { hideSpecial: true });
    const cells = heatmapCells(view.current!, [2])!;
    const thumb = thumbnailValues(view.current!, 2, 7, 7)!;
    const n = cells.rows;
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 7; j++) {
        let max = 0;
        for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (Math.floor((r * 7) / n) === i && Math.floor((c * 7) / n) === j) max = Math.max(max, cells.values[r * n + c]!);
        expect(thumb[i * 7 + j]).toBeCloseTo(max, 5);
      }
    }
  });

  it("mark blocks that are wholly above a causal diagonal as empty", () => {
    const { view } = makeView({ weights: randomWeights(1, 1, 8, 8, { causal: true }), causal: true });
    const thumb = thumbnailValues(view.current!, 0, 4, 4, causalMaskStart(view.current!))!;
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(Number.isNaN(thumb[i * 4 + j])).toBe(j > i);
  });

  it("are null until their layer arrives", () => {
    const { view } = makeView({ weights: diagonal(4, 2), missing: [1] });
    expect(thumbnailValues(view.layer(1)!, 0, 4, 4)).toBeNull();
  });

  it("are 28 to 56 pixels wide", () => {
    expect(thumbnailSize(1200, 12)).toBe(56);
    expect(thumbnailSize(500, 12)).toBeGreaterThanOrEqual(28);
    expect(thumbnailSize(200, 32)).toBe(28);
  });
});

describe("model view panel", () => {
  it("has one button per layer and head that selects it", () => {
    const context = makeContext();
    const { state, view } = makeView({ weights: diagonal(5, 3, 4) });
    const panel = mount(createModelView(context), state, view);
    const thumbs = panel.element.querySelectorAll<HTMLButtonElement>("[data-testid=thumbnail]");
    expect(thumbs).toHaveLength(12);
    const target = panel.element.querySelector<HTMLButtonElement>("[data-testid=thumbnail][data-layer='2'][data-head='3']")!;
    expect(target.getAttribute("aria-label")).toBe("Layer 2, head 3");
    target.click();
    expect(context.actions.update).toHaveBeenLastCalledWith({ layer: 2, heads: [3] });
  });

  it("outlines the selected heads of the selected layer", () => {
    const { state, view } = makeView({ weights: diagonal(5, 3, 4) }, { layer: 1, heads: [0, 2] });
    const panel = mount(createModelView(makeContext()), state, view);
    const selected = Array.from(panel.element.querySelectorAll<HTMLElement>(".aw-mv-thumb.is-selected"), (b) => `${b.dataset.layer}:${b.dataset.head}`);
    expect(selected).toEqual(["1:0", "1:2"]);
    panel.draw({ ...state, layer: 2, heads: [3] }, makeView({ weights: diagonal(5, 3, 4) }, { layer: 2, heads: [3] }).view);
    expect(Array.from(panel.element.querySelectorAll<HTMLElement>(".aw-mv-thumb.is-selected"), (b) => `${b.dataset.layer}:${b.dataset.head}`)).toEqual(["2:3"]);
  });

  it("names the attention kind when there are several, so switching kinds shows", () => {
    const data = [
      { name: "encoder", weights: diagonal(4, 2, 2) },
      { name: "cross", weights: randomWeights(2, 2, 3, 4), rows: ["d0", "d1", "d2"], cols: ["e0", "e1", "e2", "e3"] },
    ];
    const { state, view } = makeView(data, { stack: "cross" });
    const panel = mount(createModelView(makeContext()), state, view);
    expect(panel.element.querySelector("[data-testid=model-view-caption]")!.textContent).toMatch(/^cross attention · 2 layers × 2 heads over 3 × 4 tokens/);
  });

  it("shows a tooltip naming the thumbnail under the pointer", () => {
    const { state, view } = makeView({ weights: diagonal(5, 2, 2) });
    const panel = mount(createModelView(makeContext()), state, view);
    panel.element.querySelector("[data-layer='1'][data-head='0']")!.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    const tooltip = panel.element.querySelector<HTMLElement>("[data-testid=model-view-tooltip]")!;
    expect(tooltip.hidden).toBe(false);
    expect(tooltip.textContent).toBe("layer 1 · head 0");
  });
});
