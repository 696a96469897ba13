// The token-focus panel's elements, built once.
import { el } from "../../shared/dom";
import { panelTitle } from "../../shared/snapshot";
import type { Direction } from "../../state/viewState";

export interface TokenFocusDom {
  element: HTMLElement;
  token: HTMLElement;
  toggle: HTMLElement;
  caption: HTMLElement;
  list: HTMLOListElement;
  more: HTMLButtonElement;
  stripBox: HTMLElement;
  stripTitle: HTMLElement;
  strip: HTMLCanvasElement;
  stripLabels: HTMLElement;
}

export function createTokenFocusDom(): TokenFocusDom {
  const token = el("span", { className: "aw-tf-token", testid: "focus-token" });
  const toggle = el("div", { className: "aw-tf-toggle", testid: "direction-toggle", attrs: { role: "group", "aria-label": "Direction" } }, [
    directionButton("attends_to", "attends to"),
    directionButton("attended_by", "attended by"),
  ]);
  const head = el("div", { className: "aw-tf-head" }, [token, toggle]);
  const caption = el("div", { className: "aw-panel-caption", testid: "focus-caption" });
  const list = el("ol", { className: "aw-tf-bars", testid: "focus-bars" });
  const more = el("button", { className: "aw-tf-more", testid: "focus-more", attrs: { type: "button" } });
  const stripTitle = el("div", { className: "aw-tf-strip-title" });
  const strip = el("canvas", { className: "aw-tf-strip", testid: "focus-strip", attrs: { role: "img" } });
  // Layer numbers are text beside the canvas: a canvas font set makes Chromium resolve the font
  // against the document's style on every draw (3 ms a hover in JupyterLab's trace).
  const stripLabels = el("div", { className: "aw-tf-strip-labels", attrs: { "aria-hidden": "true" } });
  const stripBox = el("div", { className: "aw-tf-stripbox" }, [stripTitle, el("div", { className: "aw-tf-stripplot" }, [strip, stripLabels])]);
  const element = el("section", { className: "aw-panel aw-token-focus", testid: "token-focus" }, [
    panelTitle("Token focus"),
    head,
    caption,
    list,
    more,
    stripBox,
  ]);
  return { element, token, toggle, caption, list, more, stripBox, stripTitle, strip, stripLabels };
}

/** Press the button of the state's direction. */
export function markDirection(toggle: HTMLElement, direction: Direction): void {
  for (const button of Array.from(toggle.children) as HTMLElement[]) {
    const pressed = button.dataset.direction === direction;
    button.classList.toggle("is-selected", pressed);
    button.setAttribute("aria-pressed", String(pressed));
  }
}

function directionButton(direction: Direction, text: string): HTMLButtonElement {
  const button = el("button", { className: "aw-tf-dir", text, attrs: { type: "button", "aria-pressed": "false" } });
  button.dataset.direction = direction;
  return button;
}

/** One bar of the list: the token, its bar and its value. */
export function barRow(): HTMLElement {
  return el("li", { className: "aw-tf-bar", testid: "focus-bar" }, [
    el("span", { className: "aw-tf-label" }, [el("span", { className: "aw-tf-name" }), el("span", { className: "aw-tf-pos" })]),
    el("span", { className: "aw-tf-track" }, [el("span", { className: "aw-tf-fill" })]),
    el("span", { className: "aw-tf-value" }),
  ]);
}
