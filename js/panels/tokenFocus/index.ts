// The token-focus panel: composes target (which token), distribution and long (its weights),
// list (caption and bars), strip (every layer), dom and events.
import { setText } from "../../shared/dom";
import { tokenLabel } from "../../shared/format";
import { validHeads } from "../../shared/heads";
import type { Panel, PanelContext } from "../../shared/panel";
import { createRepaint } from "../../shared/repaint";
import { watchSize } from "../../shared/resize";
import type { View } from "../../state/view";
import type { Hover, ViewState } from "../../state/viewState";
import { createTokenFocusDom, markDirection } from "./dom";
import { wireTokenFocusEvents } from "./events";
import { drawList } from "./list";
import { createFocusStrip } from "./strip";
import { focusTarget, sameHover, type FocusTarget } from "./target";

/** What one draw shows, derived from the state before anything is drawn. */
interface Frame {
  target: FocusTarget;
  heads: number[];
  /** The focus token's identity: the list's expansion survives only while it stays. */
  focusId: string;
}

/**
 * For one token: where its attention goes (or where attention to it comes
 * from) in the selected layer and heads, as sorted bars, and the same for
 * every layer as a strip. A draw is a pipeline: `frameOf` (state: the target
 * token and heads) → the list, only when what it shows changed → the strip.
 */
export function createTokenFocus(context: PanelContext): Panel {
  const dom = createTokenFocusDom();
  const strip = createFocusStrip(dom);
  const repaint = createRepaint(paint);
  let ownHover: Hover | null = null;
  /** The hover when the focus last changed: it stays ignored until the pointer moves to another token. */
  let staleHover: Hover | null = null;
  let lastFocus: string | null = null;
  let expanded = false;
  let expandedFor = "";
  let listKey = "";

  const cleanups = wireTokenFocusEvents(
    dom,
    {
      last: () => repaint.last,
      setOwnHover: (hover) => (ownHover = hover),
      toggleExpanded() {
        expanded = !expanded;
        repaint.now();
      },
      layerAt: strip.layerAt,
    },
    context.actions,
  );
  const stripWidth = watchSize(dom.stripBox, "width", repaint.schedule);

  function paint(state: Readonly<ViewState>, view: View): void {
    markDirection(dom.toggle, state.direction);
    const frame = frameOf(state, view);
    if (!frame) return;
    const { target, heads, focusId } = frame;
    const stack = view.stack!;
    const layer = view.current!;
    const arrived = stack.long ? state.dataRevision : 0; // a long input's rows arrive after the draw that asks
    const key = [focusId, target.preview, layer.layer, layer.ready, arrived, heads.join(","), state.hideSpecial, state.pairFilter, expanded, state.hover?.axis, state.hover?.index].join("|");
    if (key !== listKey) {
      listKey = key;
      drawList(dom, state, view, target, heads, expanded);
    }
    strip.draw(state, view, target, heads, context.theme(), stripWidth.size);
  }

  /** State: the token to show and the heads, with its label drawn; null (and the hint shown) when there is none. */
  function frameOf(state: Readonly<ViewState>, view: View): Frame | null {
    const stack = view.stack;
    const layer = view.current;
    const focusNow = `${state.focus}|${state.direction}`;
    if (lastFocus !== null && focusNow !== lastFocus) staleHover = state.hover;
    lastFocus = focusNow;
    if (!sameHover(state.hover, staleHover)) staleHover = null;
    const target = focusTarget(state, view, sameHover(state.hover, ownHover) ? ownHover : staleHover);
    if (!stack || !layer || "hint" in target) {
      setText(dom.token, "");
      setText(dom.caption, "hint" in target ? target.hint : "No attention to show.");
      delete dom.caption.dataset.notes; // the notes are no longer on screen
      dom.element.classList.add("is-empty");
      dom.list.replaceChildren();
      listKey = "";
      dom.more.hidden = true;
      dom.stripBox.hidden = true;
      return null;
    }
    dom.element.classList.remove("is-empty");
    const heads = validHeads(state.heads, stack.nHeads);
    const labels = target.axis === "row" ? stack.rows : stack.cols;
    setText(dom.token, tokenLabel(labels[target.index] ?? "", 40));
    dom.token.title = labels[target.index] ?? "";
    dom.token.classList.toggle("is-preview", target.preview);
    const focusId = `${state.data?.version}|${stack.name}|${target.axis}|${target.index}`;
    if (!target.preview && focusId !== expandedFor) {
      expandedFor = focusId;
      expanded = false;
    }
    return { target, heads, focusId };
  }

  return {
    element: dom.element,
    draw: repaint.draw,
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
      stripWidth.disconnect();
      repaint.destroy();
    },
  };
}
