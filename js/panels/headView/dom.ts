// The head view's elements, built once: the tokens twice, a canvas between them, in one scroller.
import { el } from "../../shared/dom";
import { panelTitle } from "../../shared/snapshot";

export interface HeadViewDom {
  element: HTMLElement;
  caption: HTMLElement;
  scroller: HTMLElement;
  body: HTMLElement;
  left: HTMLElement;
  middle: HTMLElement;
  right: HTMLElement;
  canvas: HTMLCanvasElement;
}

export function createHeadViewDom(): HeadViewDom {
  const canvas = el("canvas", { className: "aw-hv-canvas" });
  const left = el("div", { className: "aw-hv-tokens aw-hv-left" });
  const right = el("div", { className: "aw-hv-tokens aw-hv-right" });
  const middle = el("div", { className: "aw-hv-middle" }, [canvas]);
  const body = el("div", { className: "aw-hv-body" }, [left, middle, right]);
  const scroller = el("div", { className: "aw-hv-scroll" }, [body]);
  const caption = el("div", { className: "aw-panel-caption" });
  const element = el("section", { className: "aw-panel aw-head-view", testid: "head-view" }, [
    panelTitle("Head view"),
    caption,
    scroller,
  ]);
  return { element, caption, scroller, body, left, middle, right, canvas };
}
