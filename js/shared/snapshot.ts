/**
 * A panel as a PNG, drawn from what is on screen: its canvases, the backgrounds of its
 * elements (bars, highlights) and its text, each at its place, clipped to the scroll
 * areas it sits in. Panels are canvases plus DOM labels, so copying only the canvases
 * would lose every token.
 */
import { el } from "./dom";

/** The scale of the picture: at least 2× so that text stays sharp in slides and papers. */
const MIN_SCALE = 2;

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export function panelCanvas(panel: HTMLElement, scale = Math.max(MIN_SCALE, globalThis.devicePixelRatio || 1)): HTMLCanvasElement {
  const origin = panel.getBoundingClientRect();
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(origin.width * scale));
  canvas.height = Math.max(1, Math.round(origin.height * scale));
  const context = canvas.getContext("2d");
  if (!context) return canvas;
  context.scale(scale, scale);
  context.translate(-origin.left, -origin.top);
  paintBackground(context, panel, origin);
  for (const element of panel.querySelectorAll<HTMLElement>("*")) {
    if (element.closest("[data-snapshot=skip]")) continue;
    const style = getComputedStyle(element);
    if (style.display === "none" || style.visibility === "hidden" || Number(style.opacity) === 0) continue;
    const clip = clipBox(element, panel);
    if (!clip) continue;
    context.save();
    context.beginPath();
    context.rect(clip.left, clip.top, clip.right - clip.left, clip.bottom - clip.top);
    context.clip();
    if (element instanceof HTMLCanvasElement) {
      const box = element.getBoundingClientRect();
      if (box.width > 0 && box.height > 0 && element.width > 0) context.drawImage(element, box.left, box.top, box.width, box.height);
    } else {
      paintBackground(context, element, element.getBoundingClientRect());
      paintText(context, element, style);
    }
    context.restore();
  }
  return canvas;
}

/**
 * A panel's title with its "download PNG" action. The click is handled once for the
 * whole widget (`downloadOnClick`, wired by index.ts), so panels add no listener of their own.
 */
export function panelTitle(text: string): HTMLElement {
  const name = `attnwidget-${text.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  const button = el("button", {
    className: "aw-download",
    text: "PNG",
    title: `Download the ${text.toLowerCase()} as a PNG image`,
    testid: "download-png",
    attrs: { type: "button", "aria-label": `Download the ${text.toLowerCase()} as PNG`, "data-snapshot": "skip", "data-download": name },
  });
  return el("div", { className: "aw-panel-header" }, [el("h3", { className: "aw-panel-title", text }), button]);
}

/** The widget's click handler for every panel's download action. */
export function downloadOnClick(event: MouseEvent): void {
  const button = (event.target as HTMLElement | null)?.closest<HTMLElement>("[data-download]");
  const panel = button?.closest<HTMLElement>(".aw-panel");
  if (!button || !panel) return;
  downloadPng(panelCanvas(panel), button.dataset.download ?? "attnwidget");
}

function downloadPng(canvas: HTMLCanvasElement, name: string): void {
  canvas.toBlob((blob) => {
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const link = el("a", { attrs: { href: url, download: `${name}.png` } });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000); // after the browser has started the download
  }, "image/png");
}

function paintBackground(context: CanvasRenderingContext2D, element: Element, box: DOMRect): void {
  const color = getComputedStyle(element).backgroundColor;
  if (!color || color === "transparent" || /rgba\(.*,\s*0\)$/.test(color)) return;
  context.fillStyle = color;
  context.fillRect(box.left, box.top, box.width, box.height);
}

/** The element's own text (not its children's), where the browser laid it out. */
function paintText(context: CanvasRenderingContext2D, element: HTMLElement, style: CSSStyleDeclaration): void {
  const vertical = readsUpward(style);
  for (const node of element.childNodes) {
    if (node.nodeType !== Node.TEXT_NODE || !node.textContent?.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    context.fillStyle = style.color;
    context.textBaseline = "middle";
    const text = style.textTransform === "uppercase" ? node.textContent.toUpperCase() : node.textContent;
    if (vertical) {
      context.save();
      context.translate(box.left + box.width / 2, box.bottom);
      context.rotate(-Math.PI / 2);
      context.fillText(text.trim(), 0, 0);
      context.restore();
    } else {
      context.fillText(text, box.left, box.top + box.height / 2);
    }
  }
}

/** Text turned a quarter left (the heatmap's column labels), by writing mode or by transform. */
function readsUpward(style: CSSStyleDeclaration): boolean {
  if (style.writingMode.startsWith("sideways") || style.writingMode.startsWith("vertical")) return true;
  const matrix = style.transform.match(/^matrix\(([^)]+)\)$/);
  if (!matrix) return false;
  const [a, b] = matrix[1]!.split(",").map(Number);
  return Math.abs(a ?? 1) < 0.01 && (b ?? 0) < -0.99;
}

/** The part of the page an element can show: its box cut by every scrolling or clipping ancestor up to the panel. */
function clipBox(element: HTMLElement, panel: HTMLElement): Box | null {
  const own = element.getBoundingClientRect();
  let box: Box = { left: own.left, top: own.top, right: own.right, bottom: own.bottom };
  for (let node: HTMLElement | null = element.parentElement; node && node !== panel.parentElement; node = node.parentElement) {
    const overflow = getComputedStyle(node);
    if (node !== panel && overflow.overflowX === "visible" && overflow.overflowY === "visible") continue;
    const rect = node.getBoundingClientRect();
    box = {
      left: Math.max(box.left, rect.left),
      top: Math.max(box.top, rect.top),
      right: Math.min(box.right, rect.right),
      bottom: Math.min(box.bottom, rect.bottom),
    };
  }
  return box.right > box.left && box.bottom > box.top ? box : null;
}
