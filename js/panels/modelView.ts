import { el } from "../shared/dom";
import type { Panel, PanelContext } from "./panel";

export function createModelView(_context: PanelContext): Panel {
  const element = el("section", { className: "aw-panel", testid: "model-view" }, [el("h3", { className: "aw-panel-title", text: "Model view" })]);
  return { element, draw() {}, destroy() {} };
}
