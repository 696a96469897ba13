import { describe, expect, it } from "vitest";
import { makeView, randomWeights } from "../testing/fixtures";
import { createStatus } from "./status";

const WEIGHTS = randomWeights(1, 1, 3, 3, { seed: 2 });

function errorLine(patch: Parameters<typeof makeView>[1]): HTMLElement {
  const status = createStatus();
  const { state, view } = makeView({ weights: WEIGHTS }, patch);
  status.draw(state, view);
  return status.element.querySelector("[data-testid=error]") as HTMLElement;
}

describe("the error line", () => {
  it("shows a refusal from Python beside the last run's error, as text", () => {
    const line = errorLine({ error: "sentence is empty", notice: "Not applied: layer must be between 0 and 0, got <b>-1</b>" });
    expect(line.hidden).toBe(false);
    expect(line.textContent).toBe("sentence is empty · Not applied: layer must be between 0 and 0, got <b>-1</b>");
    expect(line.querySelector("b")).toBeNull();
  });

  it("is hidden when there is nothing to report", () => {
    expect(errorLine({ error: "", notice: "" }).hidden).toBe(true);
  });
});
