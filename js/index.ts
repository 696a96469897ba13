import type { AnyModel, RenderProps } from "@anywidget/types";
import { createAnalysisBar } from "./panels/analysisBar";
import { createCompare } from "./panels/compare";
import { createControls } from "./panels/controls";
import { createHeadStats } from "./panels/headStats";
import { createHeadView } from "./panels/headView";
import { createHeatmap } from "./panels/heatmap";
import { createModelView } from "./panels/modelView";
import { createNeuronView } from "./panels/neuronView";
import type { Panel, PanelContext } from "./panels/panel";
import { createStatus } from "./panels/status";
import { createTokenFocus } from "./panels/tokenFocus";
import { readTheme } from "./shared/colors";
import { el, on } from "./shared/dom";
import { downloadOnClick } from "./shared/snapshot";
import { createStore } from "./state/store";
import { connectLong } from "./state/longFetcher";
import { connectQueries } from "./state/queries";
import { connect, type Actions } from "./state/sync";
import type { Traits } from "./state/traits";
import { ViewDeriver, type View } from "./state/view";
import { initialViewState, type ViewState } from "./state/viewState";
import "./styles.css";

function render({ model, el: host }: Pick<RenderProps<Traits>, "model" | "el">): () => void {
  const root = el("div", { className: "attnwidget", attrs: { tabindex: "0", "aria-label": "Attention viewer" } });
  const store = createStore<ViewState>(initialViewState);
  const { actions, disconnect } = connect(model, store);
  // Before the panels subscribe: a long stack has its cache before the first draw asks it for anything.
  const disconnectLong = connectLong(model, store);
  const untheme = followThemeTrait(model, root, () => drawAll(store.get()));
  let theme = readTheme(root);
  const context: PanelContext = { actions, theme: () => theme };

  const controls = createControls(context);
  const status = createStatus();
  const headView = createHeadView(context);
  const heatmap = createHeatmap(context);
  const tokenFocus = createTokenFocus(context);
  const modelView = createModelView(context);
  const analysisBar = createAnalysisBar(context);
  const compare = createCompare(context);
  const headStats = createHeadStats(context);
  const neuronView = createNeuronView(context);
  const panels: Panel[] = [controls, analysisBar, status, headView, heatmap, tokenFocus, compare, modelView, headStats, neuronView];
  root.append(
    controls.element,
    analysisBar.element,
    status.element,
    el("div", { className: "aw-panels" }, [headView.element, heatmap.element, tokenFocus.element]),
    compare.element,
    modelView.element,
    headStats.element,
    neuronView.element,
  );
  host.append(root);

  const deriver = new ViewDeriver();
  let drawn = false;
  const drawAll = (state: Readonly<ViewState>) => {
    drawn = true;
    theme = readTheme(root);
    const view = deriver.derive(state);
    for (const panel of panels) {
      try {
        panel.draw(state, view);
      } catch (error) {
        // One panel's failure must not blank the others: they keep drawing.
        console.error("attnwidget: a panel failed to draw", error);
      }
    }
  };
  const unsubscribe = store.subscribe(drawAll);
  store.flush(); // paint now with what connect() read, instead of now and again next frame
  if (!drawn) drawAll(store.get());

  const cleanups = [
    unsubscribe,
    disconnect,
    connectQueries(model, store),
    disconnectLong,
    on(root, "keydown", (event) => handleKey(event, store.get(), deriver.derive(store.get()), actions)),
    on(root, "click", downloadOnClick),
    watchTheme(() => drawAll(store.get())),
    untheme,
  ];
  return () => {
    cleanups.forEach((cleanup) => cleanup());
    panels.forEach((panel) => panel.destroy());
    root.remove();
  };
}

/** ←/→ move the focus token, ↑/↓ the layer; typing in a box is left alone. */
function handleKey(event: KeyboardEvent, state: Readonly<ViewState>, view: View, actions: Actions): void {
  const target = event.target as HTMLElement;
  if (target.closest("input, select, textarea, button") || !view.stack || !view.current) return;
  if (event.key === "ArrowUp" || event.key === "ArrowDown") {
    const layer = state.layer + (event.key === "ArrowDown" ? 1 : -1);
    if (layer >= 0 && layer < view.stack.nLayers) actions.update({ layer });
  } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
    const byRow = state.direction === "attends_to";
    const visible = byRow ? view.current.rows : view.current.cols;
    if (visible.length === 0) return;
    const position = state.focus === null ? -1 : byRow ? view.visibleRow(state.focus) : view.visibleCol(state.focus);
    const step = event.key === "ArrowRight" ? 1 : -1;
    const next = position < 0 ? (step > 0 ? 0 : visible.length - 1) : Math.min(visible.length - 1, Math.max(0, position + step));
    actions.update({ focus: visible[next]! });
  } else if (event.key === "Escape") {
    actions.update({ focus: null, hover: null });
  } else {
    return;
  }
  event.preventDefault();
}

/** Repaint the canvases when JupyterLab or VS Code switches theme, or the OS does (standalone files). */
function watchTheme(repaint: () => void): () => void {
  if (typeof MutationObserver !== "function") return () => {};
  const observer = new MutationObserver(repaint);
  observer.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-name", "data-jp-theme-light", "class", "data-vscode-theme-kind"] });
  const scheme = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;
  scheme?.addEventListener("change", repaint);
  return () => {
    observer.disconnect();
    scheme?.removeEventListener("change", repaint);
  };
}

/** The `theme` trait ("light" or "dark" force one, as BertViz's display_mode does; "auto" follows the host). */
function followThemeTrait(model: AnyModel<Traits>, root: HTMLElement, repaint: () => void): () => void {
  const apply = () => {
    const theme = model.get("theme");
    if (theme === "light" || theme === "dark") root.dataset.theme = theme;
    else delete root.dataset.theme;
  };
  const changed = () => {
    apply();
    repaint();
  };
  apply();
  model.on("change:theme", changed);
  return () => model.off("change:theme", changed);
}

export default { render };
