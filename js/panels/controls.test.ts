import { afterEach, describe, expect, it } from "vitest";
import { AttentionData } from "../data/attention";
import { asLongInput, makeContext, makePayload, makeView, mount, randomWeights } from "../testing/fixtures";
import { createControls, syncInput } from "./controls";

afterEach(() => document.body.replaceChildren());

function box(text: string): HTMLInputElement {
  const input = document.createElement("input");
  syncInput(input, text);
  return input;
}

describe("the sentence box", () => {
  it("shows Python's sentence while the user has not edited it", () => {
    const input = box("first");
    syncInput(input, "set from Python");
    expect(input.value).toBe("set from Python");
  });

  it("keeps what the user is typing when the answer to their submission arrives", () => {
    const input = box("first");
    input.value = "a long sentence"; // submitted, then cleared and the next one typed
    input.value = "the next on";
    syncInput(input, "a long sentence");
    expect(input.value).toBe("the next on");
  });

  it("does not jump back to older submissions during a burst", () => {
    const input = box("zero");
    input.value = "two"; // "one" and then "two" submitted
    syncInput(input, "one");
    expect(input.value).toBe("two");
    syncInput(input, "two");
    expect(input.value).toBe("two");
    syncInput(input, "three, set from Python"); // the box is back in step: it follows Python again
    expect(input.value).toBe("three, set from Python");
  });
});

describe("the token filters", () => {
  const weights = randomWeights(1, 2, 4, 4, { seed: 4 });

  function filters(long: boolean): { hideSpecial: HTMLInputElement; pair: HTMLSelectElement } {
    const payload = makePayload({ weights, rows: ["[CLS]", "a", "b", "[SEP]"], special: [true, false, false, true] });
    if (long) asLongInput(payload);
    const { state, view } = makeView(new AttentionData(payload));
    const controls = mount(createControls(makeContext()), state, view);
    return {
      hideSpecial: controls.element.querySelector("[data-testid=hide-special]") as HTMLInputElement,
      pair: controls.element.querySelector("[data-testid=pair-filter]") as HTMLSelectElement,
    };
  }

  it("are offered for an input whose weights the page holds", () => {
    const { hideSpecial, pair } = filters(false);
    expect(hideSpecial.disabled).toBe(false);
    expect(pair.disabled).toBe(false);
  });

  it("are disabled, with the reason, for a long input, which shows every token", () => {
    const { hideSpecial, pair } = filters(true);
    expect(hideSpecial.disabled).toBe(true);
    expect(pair.disabled).toBe(true);
    expect(hideSpecial.closest("label")!.title).toContain("filters do not apply");
  });
});
