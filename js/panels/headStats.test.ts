import { afterEach, describe, expect, it } from "vitest";
import type { HeadStatsPayload } from "../data/protocol";
import { analysisCaption } from "../shared/format";
import { headPatterns } from "../shared/patterns";
import { makeContext, makeData, makeState, mount, randomWeights } from "../testing/fixtures";
import { ViewDeriver } from "../state/view";
import { createHeadStats, headRows, sortRows } from "./headStats";
import { createModelView } from "./modelView";

afterEach(() => document.body.replaceChildren());

const stats: HeadStatsPayload = {
  stack: "self",
  version: 1,
  summary: "layer 0: mostly previous-token heads",
  columns: {
    layer: [0, 0, 1, 1],
    head: [0, 1, 0, 1],
    entropy: [2.5, 0.1, 1.0, 3.0],
    distance: [1, 2, 3, 4],
    self: [0.1, 0.9, 0.2, 0.1],
    previous: [0.6, 0.0, 0.1, 0.1],
    next: [0.1, 0.0, 0.1, null],
    special: [0.1, 0.1, 0.6, 0.2],
    pattern: ["previous", "self", "special", "broad"],
  },
};

describe("head statistics table", () => {
  it("sorts by any column, missing values last, ties by layer then head", () => {
    const rows = headRows(stats, "self");
    expect(sortRows(rows, "entropy", true).map((row) => `${row.layer}:${row.head}`)).toEqual(["1:1", "0:0", "1:0", "0:1"]);
    expect(sortRows(rows, "next", false).map((row) => `${row.layer}:${row.head}`)).toEqual(["0:1", "0:0", "1:0", "1:1"]);
    expect(sortRows(rows, "pattern", false).map((row) => row.pattern)).toEqual(["broad", "previous", "self", "special"]);
    expect(headRows(stats, "cross")).toEqual([]);
  });

  it("selects a layer and head on a row click and sorts on a header click", () => {
    const data = makeData({ weights: randomWeights(2, 2, 3, 3) });
    const state = makeState(data, { headStats: stats });
    const context = makeContext();
    const panel = mount(createHeadStats(context), state, new ViewDeriver().derive(state));
    const rows = () => Array.from(panel.element.querySelectorAll<HTMLElement>("[data-testid=head-stats-row]"));
    expect(rows()).toHaveLength(4);
    rows()[2]!.click();
    expect(context.actions.update).toHaveBeenCalledWith({ layer: 1, heads: [0] });
    panel.element.querySelector<HTMLElement>("[data-key=entropy]")!.click();
    expect(rows().map((row) => row.dataset.head)).toEqual(["1", "0", "0", "1"]);
    expect(panel.element.querySelector("[data-testid=layer-summary]")!.textContent).toContain("previous-token");
  });

  it("badges the model view's thumbnails when the statistics arrive after the first paint", () => {
    const data = makeData({ weights: randomWeights(2, 2, 3, 3) });
    const deriver = new ViewDeriver();
    const before = makeState(data);
    const panel = mount(createModelView(makeContext()), before, deriver.derive(before));
    const thumb = () => panel.element.querySelector<HTMLElement>("[data-testid=thumbnail][data-layer='1'][data-head='0']")!;
    expect(thumb().textContent).toBe("");
    const after = { ...before, headStats: stats };
    panel.draw(after, deriver.derive(after));
    expect(thumb().dataset.pattern).toBe("special");
    expect(thumb().textContent).toBe("sink");
  });

  it("gives the model view each head's pattern, only for the stack it describes", () => {
    expect(headPatterns(stats, "self").get("1:0")).toBe("special");
    expect(headPatterns(stats, "encoder").size).toBe(0);
  });
});

describe("analysis captions", () => {
  it("say rollout up to the layer and words, never rollout for cross-attention", () => {
    expect(analysisCaption({ combine: "rollout", granularity: "tokens" }, "self", 3)).toBe("Rollout of layers 0–3");
    expect(analysisCaption({ combine: "rollout", granularity: "words" }, "self", 0)).toBe("Rollout of layer 0 · words");
    expect(analysisCaption({ combine: "rollout", granularity: "words" }, "cross", 2)).toBe("Words");
    expect(analysisCaption({ combine: "none", granularity: "tokens" }, "self", 2)).toBe("");
    expect(analysisCaption({ combine: "rollout", granularity: "tokens" }, "self", null)).toBe("Rollout up to each layer");
  });
});
