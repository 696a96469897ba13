import { el } from "../shared/dom";
import type { Panel, PanelContext } from "./panel";

export function createTokenFocus(_context: PanelContext): Panel {
  const element = el("section", { className: "aw-panel", testid: "token-focus" }, [el("h3", { className: "aw-panel-title", text: "Token focus" })]);
  return { element, draw() {}, destroy() {} };
}
