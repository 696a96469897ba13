import "./analysis.css";
import { el, on, setOptions } from "../shared/dom";
import type { ViewState } from "../state/viewState";
import type { Panel, PanelContext } from "../shared/panel";

const NO_COMPARISON = "";
const LONG_INPUT = "not for a long input, which keeps queries and keys instead of every weight";

/**
 * The analysis toggles: combine layers by rollout, read words
 * instead of word pieces, and compare with a second model. Each writes a
 * Python trait (or asks Python to run the second model); Python re-sends what
 * every panel shows.
 */
export function createAnalysisBar(context: PanelContext): Panel {
  const { actions } = context;
  const combine = toggle("Combine layers (rollout)", "combine-toggle",
    "Show attention rollout: each layer composed with every layer below it through the residual stream (Abnar & Zuidema, 2020)");
  const words = toggle("Words", "granularity-toggle",
    "Merge word pieces into words: attention to a word is the sum over its pieces, from a word the mean (Clark et al., 2019)");
  const compareSelect = el("select", { className: "aw-select", testid: "compare-select", attrs: { "aria-label": "Compare with a second model" } });
  const compareField = el("label", { className: "aw-field", title: "Run a second model on the same input and show the difference" }, [
    el("span", { className: "aw-label", text: "Compare with" }),
    compareSelect,
  ]);
  const element = el("div", { className: "aw-row aw-analysis", testid: "analysis-bar" }, [combine, words, compareField]);

  const titles = new Map([combine, words].map((button) => [button, button.title]));
  let state: Readonly<ViewState> | null = null;
  const cleanups = [
    on(combine, "click", () => state && actions.update({ combine: state.combine === "rollout" ? "none" : "rollout" })),
    on(words, "click", () => state && actions.update({ granularity: state.granularity === "words" ? "tokens" : "words", focus: null })),
    on(compareSelect, "change", () => actions.compare(compareSelect.value)),
  ];

  return {
    element,
    draw(next, view) {
      state = next;
      setPressed(combine, next.combine === "rollout");
      setPressed(words, next.granularity === "words");
      const long = view.stack?.long ?? false;
      for (const button of [combine, words]) {
        button.disabled = next.savedFile || long;
        const reason = next.savedFile ? "fixed when this file was saved" : long ? LONG_INPUT : "";
        button.title = reason ? `${titles.get(button)} (${reason})` : titles.get(button) ?? "";
      }
      const choices = compareChoices(next.models, next.model, next.compareTo);
      setOptions(compareSelect, [{ value: NO_COMPARISON, label: "— no second model —" }, ...choices.map((model) => ({ value: model, label: model }))]);
      compareSelect.value = next.compareTo;
      compareSelect.disabled = next.pending || next.busy || long;
      compareSelect.title = long ? `Comparison is ${LONG_INPUT}` : "";
      compareField.hidden = !next.hasModel;
    },
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
    },
  };
}

/** The models offered as B: the widget's choices (the current one included: a re-run is a sanity check) and the one compared now. */
export function compareChoices(models: readonly string[], current: string, comparing: string): string[] {
  const choices = [...models];
  if (current && !choices.includes(current)) choices.unshift(current);
  if (comparing && !choices.includes(comparing)) choices.push(comparing);
  return choices;
}

function toggle(text: string, testid: string, title: string): HTMLButtonElement {
  const button = el("button", { className: "aw-toggle", text, title, testid, attrs: { type: "button", "aria-pressed": "false" } });
  return button;
}

function setPressed(button: HTMLElement, pressed: boolean): void {
  button.setAttribute("aria-pressed", String(pressed));
  button.classList.toggle("is-on", pressed);
}
