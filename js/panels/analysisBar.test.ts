import { afterEach, describe, expect, it } from "vitest";
import { AttentionData } from "../data/attention";
import { asLongInput, makeContext, makePayload, makeView, mount, randomWeights } from "../testing/fixtures";
import { createAnalysisBar } from "./analysisBar";

const weights = randomWeights(2, 2, 4, 4, { seed: 6 });

afterEach(() => document.body.replaceChildren());

function bar(long: boolean) {
  const payload = makePayload({ weights });
  const { state, view } = makeView(new AttentionData(long ? asLongInput(payload) : payload), { models: ["a", "b"], model: "a" });
  const panel = mount(createAnalysisBar(makeContext()), state, view);
  const find = <T extends HTMLElement>(testid: string) => panel.element.querySelector(`[data-testid=${testid}]`) as T;
  return {
    combine: find<HTMLButtonElement>("combine-toggle"),
    words: find<HTMLButtonElement>("granularity-toggle"),
    compare: find<HTMLSelectElement>("compare-select"),
  };
}

describe("the analysis toggles", () => {
  it("are offered when the page holds every weight", () => {
    const { combine, words, compare } = bar(false);
    expect([combine.disabled, words.disabled, compare.disabled]).toEqual([false, false, false]);
  });

  it("are disabled for a long input, and say why", () => {
    const { combine, words, compare } = bar(true);
    expect([combine.disabled, words.disabled, compare.disabled]).toEqual([true, true, true]);
    expect(combine.title).toContain("not for a long input");
    expect(compare.title).toContain("not for a long input");
  });
});
