import { headColor } from "../shared/colors";
import { el, on, setOptions } from "../shared/dom";
import type { View } from "../state/view";
import type { PairFilter, ViewState } from "../state/viewState";
import type { Panel, PanelContext } from "../shared/panel";

const HIDE_SPECIAL_HINT = "[CLS], [SEP], <s>, padding… soak up attention and wash out the rest";
const LONG_INPUT_FILTERS = "A long input keeps queries and keys instead of weights and shows every token: filters do not apply";

const STACK_LABELS: Record<string, string> = {
  self: "Self-attention",
  encoder: "Encoder self-attention",
  decoder: "Decoder self-attention",
  cross: "Cross-attention (decoder → encoder)",
};

const PAIR_FILTERS: Array<{ value: PairFilter; label: string }> = [
  { value: "all", label: "All" },
  { value: "aa", label: "A→A" },
  { value: "ab", label: "A→B" },
  { value: "ba", label: "B→A" },
  { value: "bb", label: "B→B" },
];

/** The input row and the view controls. Every control writes the shared state, never another panel. */
export function createControls(context: PanelContext): Panel {
  const { actions } = context;
  const sentenceInput = el("input", {
    className: "aw-input",
    testid: "sentence-input",
    attrs: { type: "text", placeholder: "Type a sentence and press Enter", "aria-label": "Sentence", spellcheck: "false" },
  });
  const sentenceBInput = el("input", {
    className: "aw-input",
    testid: "sentence-b-input",
    attrs: { type: "text", placeholder: "Sentence B", "aria-label": "Sentence B", spellcheck: "false" },
  });
  const targetInput = el("input", {
    className: "aw-input",
    testid: "target-input",
    attrs: { type: "text", placeholder: "Target (decoder text); empty to generate one", "aria-label": "Target", spellcheck: "false" },
  });
  const modelSelect = el("select", { className: "aw-select", testid: "model-select", attrs: { "aria-label": "Model" } });
  const inputRow = el("div", { className: "aw-row aw-inputs" }, [sentenceInput, sentenceBInput, targetInput, modelSelect]);

  const stackSelect = el("select", { className: "aw-select", testid: "stack-select", attrs: { "aria-label": "Attention kind" } });
  const layerSelect = el("select", { className: "aw-select", testid: "layer-select", attrs: { "aria-label": "Layer" } });
  const headChips = el("div", { className: "aw-chips", testid: "head-chips", attrs: { role: "group", "aria-label": "Heads" } });
  const pairSelect = el("select", { className: "aw-select", testid: "pair-filter", attrs: { "aria-label": "Sentence-pair block" } });
  setOptions(pairSelect, PAIR_FILTERS);
  const hideSpecial = el("input", { testid: "hide-special", attrs: { type: "checkbox" } });
  const threshold = el("input", {
    className: "aw-range",
    testid: "threshold",
    attrs: { type: "range", min: "0", max: "0.5", step: "0.01", "aria-label": "Line threshold" },
  });
  const thresholdValue = el("span", { className: "aw-muted" });
  const hideSpecialField = el("label", { className: "aw-field aw-check", title: HIDE_SPECIAL_HINT }, [
    hideSpecial,
    el("span", { text: "Hide special tokens" }),
  ]);
  const stackField = field("Attention", stackSelect);
  const pairField = field("Pair", pairSelect);
  const controlRow = el("div", { className: "aw-row aw-controls" }, [
    stackField,
    field("Layer", layerSelect),
    el("div", { className: "aw-field aw-heads" }, [el("span", { className: "aw-label", text: "Heads" }), headChips]),
    pairField,
    hideSpecialField,
    el("label", { className: "aw-field", title: "Lines below this weight are not drawn" }, [
      el("span", { className: "aw-label", text: "Threshold" }),
      threshold,
      thresholdValue,
    ]),
  ]);
  const element = el("div", { className: "aw-toolbar" }, [inputRow, controlRow]);

  const submit = (event: KeyboardEvent) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    actions.run({
      sentence: sentenceInput.value,
      ...(sentenceBInput.hidden ? {} : { sentenceB: sentenceBInput.value }),
      ...(targetInput.hidden ? {} : { target: targetInput.value }),
    });
  };
  let lastHeadClick = { head: -1, time: 0 };
  const cleanups = [
    on(sentenceInput, "keydown", submit),
    on(sentenceBInput, "keydown", submit),
    on(targetInput, "keydown", submit),
    on(modelSelect, "change", () => actions.run({ model: modelSelect.value, sentence: sentenceInput.value })),
    on(stackSelect, "change", () => actions.update({ stack: stackSelect.value, focus: null })),
    on(layerSelect, "change", () => actions.update({ layer: Number(layerSelect.value) })),
    on(pairSelect, "change", () => actions.update({ pairFilter: pairSelect.value as PairFilter })),
    on(hideSpecial, "change", () => actions.update({ hideSpecial: hideSpecial.checked })),
    on(threshold, "input", () => actions.update({ threshold: Number(threshold.value) })),
    on(headChips, "click", (event) => {
      const chip = (event.target as HTMLElement).closest<HTMLElement>("[data-head]");
      if (!chip) return;
      const head = Number(chip.dataset.head);
      // A second click on the same chip within the double-click time shows that head alone.
      const now = event.timeStamp;
      const isDouble = lastHeadClick.head === head && now - lastHeadClick.time < 350;
      lastHeadClick = { head, time: now };
      actions.update({ heads: isDouble ? [head] : toggleHead(lastState?.heads ?? [], head) });
    }),
  ];
  let lastState: Readonly<ViewState> | null = null;

  return {
    element,
    draw(state, view) {
      lastState = state;
      const stack = view.stack;
      syncInput(sentenceInput, state.sentence);
      const isPair = stack !== null && stack.rowBStart !== null;
      sentenceBInput.hidden = !(state.hasModel && (isPair || state.sentenceB !== ""));
      syncInput(sentenceBInput, state.sentenceB);
      targetInput.hidden = !(state.hasModel && state.data?.stacks.has("cross"));
      syncInput(targetInput, state.target);
      sentenceInput.hidden = !state.hasModel;
      sentenceInput.setAttribute("aria-busy", String(state.pending || state.busy));
      setOptions(modelSelect, state.models.map((model) => ({ value: model, label: model })));
      modelSelect.value = state.model;
      modelSelect.hidden = !state.hasModel || state.models.length < 2;
      modelSelect.disabled = state.pending || state.busy;
      inputRow.hidden = !state.hasModel;

      const stacks = state.data ? [...state.data.stacks.keys()] : [];
      setOptions(stackSelect, stacks.map((name) => ({ value: name, label: STACK_LABELS[name] ?? name })));
      stackSelect.value = state.stack;
      stackField.hidden = stacks.length < 2;

      const layers = stack?.nLayers ?? 0;
      setOptions(layerSelect, Array.from({ length: layers }, (_, layer) => ({ value: String(layer), label: String(layer) })));
      layerSelect.value = String(state.layer);
      drawHeadChips(headChips, stack?.nHeads ?? 0, state.heads);

      pairField.hidden = !(stack && stack.rowBStart !== null && stack.colBStart !== null);
      pairSelect.value = state.pairFilter;
      hideSpecial.checked = state.hideSpecial;
      // A long input keeps queries and keys, not weights: every token is shown, so filters cannot apply.
      const long = stack?.long ?? false;
      hideSpecial.disabled = long;
      pairSelect.disabled = long;
      hideSpecialField.title = long ? LONG_INPUT_FILTERS : HIDE_SPECIAL_HINT;
      pairField.title = long ? LONG_INPUT_FILTERS : "";
      threshold.value = String(state.threshold);
      thresholdValue.textContent = state.threshold.toFixed(2);
      void (view satisfies View);
    },
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
    },
  };
}

function field(label: string, control: HTMLElement): HTMLElement {
  return el("label", { className: "aw-field" }, [el("span", { className: "aw-label", text: label }), control]);
}

/**
 * Show Python's text when it changes, but only in a box the user has not edited
 * since: what the user typed is theirs, while a run is in flight, after a failed
 * run (to correct it) and when an answer to an older submission arrives.
 */
export function syncInput(input: HTMLInputElement, value: string): void {
  if (input.dataset.synced === value) return;
  const untouched = input.dataset.synced === undefined || input.value === input.dataset.synced;
  input.dataset.synced = value;
  if (untouched) input.value = value;
}

export function toggleHead(heads: readonly number[], head: number): number[] {
  return heads.includes(head) ? heads.filter((h) => h !== head) : [...heads, head].sort((a, b) => a - b);
}

function drawHeadChips(container: HTMLElement, nHeads: number, selected: readonly number[]): void {
  if (container.children.length !== nHeads) {
    container.replaceChildren(
      ...Array.from({ length: nHeads }, (_, head) => {
        const chip = el("button", { className: "aw-chip", text: String(head), title: `Head ${head}: click to toggle, double-click to show it alone` });
        chip.type = "button";
        chip.dataset.head = String(head);
        chip.style.setProperty("--aw-head-color", headColor(head, nHeads));
        return chip;
      }),
    );
  }
  const chosen = new Set(selected);
  for (const chip of Array.from(container.children) as HTMLElement[]) {
    const on = chosen.has(Number(chip.dataset.head));
    chip.classList.toggle("is-selected", on);
    chip.setAttribute("aria-pressed", String(on));
  }
}
