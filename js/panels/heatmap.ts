import { el } from "../shared/dom";
import type { Panel, PanelContext } from "./panel";

export function createHeatmap(_context: PanelContext): Panel {
  const element = el("section", { className: "aw-panel", testid: "heatmap" }, [el("h3", { className: "aw-panel-title", text: "Heatmap" })]);
  return { element, draw() {}, destroy() {} };
}
