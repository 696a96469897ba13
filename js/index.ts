import type { RenderProps } from "@anywidget/types";
import { createAnalysisBar } from "./panels/analysisBar";
import { createCompare } from "./panels/compare";
import { createControls } from "./panels/controls";
import { createHeadStats } from "./panels/headStats";
import { createHeadView } from "./panels/headView";
import { createHeatmap } from "./panels/heatmap";
import { createModelView } from "./panels/modelView";
import { createNeuronView } from "./panels/neuronView";
import { createStatus } from "./panels/status";
import { createTokenFocus } from "./panels/tokenFocus";
import { readTheme } from "./shared/colors";
import { el, on } from "./shared/dom";
import { handleKey } from "./shared/keyboard";
import type { Panel, PanelContext } from "./shared/panel";
import { downloadOnClick } from "./shared/snapshot";
import { followThemeTrait, watchTheme } from "./shared/theme";
import { createStore } from "./state/store";
import { connectLong } from "./state/longFetcher";
import { connectQueries } from "./state/queries";
import { connect } from "./state/sync";
import type { Traits } from "./state/traits";
import { ViewDeriver } from "./state/view";
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

export default { render };
