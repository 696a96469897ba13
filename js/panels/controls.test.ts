import { describe, expect, it } from "vitest";
import { syncInput } from "./controls";

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
