// What every widget carries as its `_esm`: a loader of about 1 kB. The front end itself
// (widget.js and widget.css, gzip-compressed) travels once per kernel in one shared
// ipywidgets model that each widget references (`_front_end`, see
// src/attnwidget/frontend.py). The loader fetches that model from the page's widget
// manager, decompresses it with the browser's DecompressionStream, injects the CSS once
// per document and imports the module once per page, keyed by its content digest, then
// renders with it. A saved notebook's widget state holds the shared model like any other,
// so a page without a kernel renders the same way.
import type { AnyModel, RenderProps } from "@anywidget/types";
import type { Traits } from "./state/traits";

type FrontEnd = { render(props: RenderProps<Traits>): unknown };
type Binary = DataView | ArrayBuffer | Uint8Array;
/** The shared model's traits (src/attnwidget/frontend.py). */
interface FrontEndTraits {
  esm: Binary;
  css: Binary;
  digest: string;
}

const REFERENCE_PREFIX = "IPY_MODEL_";
/** The page's global scope, where every widget's copy of this loader finds the front ends already loaded. */
type PageGlobals = typeof globalThis & { __attnwidgetFrontEnds?: Map<string, Promise<FrontEnd>> };
const loaded = ((globalThis as PageGlobals).__attnwidgetFrontEnds ??= new Map());

async function gunzip(data: Binary): Promise<string> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}

async function importText(source: string): Promise<FrontEnd> {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    const module = await import(/* webpackIgnore: true */ /* @vite-ignore */ url);
    return module.default as FrontEnd;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function unpack(shared: AnyModel<FrontEndTraits>, digest: string): Promise<FrontEnd> {
  return (async () => {
    const [script, css] = await Promise.all([gunzip(shared.get("esm")), gunzip(shared.get("css"))]);
    if (!document.querySelector(`style[data-attnwidget="${digest}"]`)) {
      const style = document.createElement("style");
      style.dataset.attnwidget = digest;
      style.textContent = css;
      document.head.append(style);
    }
    return importText(script);
  })();
}

async function frontEnd(model: AnyModel<Traits>): Promise<FrontEnd> {
  const reference: unknown = model.get("_front_end");
  if (typeof reference !== "string" || !reference.startsWith(REFERENCE_PREFIX)) {
    throw new Error("this widget's state names no shared front end (_front_end); re-run the cell");
  }
  const shared = await model.widget_manager.get_model<FrontEndTraits>(reference.slice(REFERENCE_PREFIX.length));
  const digest = String(shared.get("digest"));
  let pending = loaded.get(digest);
  if (!pending) {
    pending = unpack(shared, digest);
    loaded.set(digest, pending);
    pending.catch(() => loaded.delete(digest)); // a later widget may try again
  }
  return pending;
}

async function render(props: RenderProps<Traits>): Promise<unknown> {
  try {
    return await (await frontEnd(props.model)).render(props);
  } catch (error) {
    const message = document.createElement("div");
    message.setAttribute("role", "alert");
    message.textContent = `attnwidget could not load its front end: ${error instanceof Error ? error.message : String(error)}`;
    props.el.append(message);
    console.error("attnwidget: loading the front end failed", error);
    return () => message.remove();
  }
}

export default { render };
