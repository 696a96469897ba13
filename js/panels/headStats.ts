import "./analysis.css";
import type { HeadStatsPayload } from "../data/protocol";
import { el, on, setText } from "../shared/dom";
import { percent } from "../shared/format";
import { PATTERN_DESCRIPTIONS } from "../shared/patterns";
import type { View } from "../state/view";
import type { ViewState } from "../state/viewState";
import type { Panel, PanelContext } from "../shared/panel";

/** One head's statistics, as computed by Python's head_stats(); null where a statistic does not apply. */
export interface HeadRow {
  layer: number;
  head: number;
  pattern: string;
  entropy: number | null;
  distance: number | null;
  self: number | null;
  previous: number | null;
  next: number | null;
  special: number | null;
}

export type SortKey = keyof HeadRow;

interface Column {
  key: SortKey;
  label: string;
  title: string;
  format: (value: number | string | null) => string;
}

const share = (value: number | string | null) => (typeof value === "number" ? percent(value) : "–");
const decimal = (value: number | string | null) => (typeof value === "number" ? value.toFixed(2) : "–");
const plain = (value: number | string | null) => (value === null ? "–" : String(value));

const COLUMNS: Column[] = [
  { key: "layer", label: "Layer", title: "Layer", format: plain },
  { key: "head", label: "Head", title: "Head", format: plain },
  { key: "pattern", label: "Pattern", title: "What the head mostly does (thresholds: see attnwidget.head_stats)", format: plain },
  { key: "entropy", label: "Entropy", title: "Mean row entropy, bits: low = focused, high = spread out", format: decimal },
  { key: "distance", label: "Distance", title: "Mean distance attended, in tokens: Σ a·|i − j| per row", format: decimal },
  { key: "self", label: "Self", title: "Mean attention to the token itself", format: share },
  { key: "previous", label: "Prev", title: "Mean attention to the previous token", format: share },
  { key: "next", label: "Next", title: "Mean attention to the next token", format: share },
  { key: "special", label: "Special", title: "Mean attention to special tokens ([CLS], [SEP], <s>…)", format: share },
];

/** The statistics as rows, or [] when they describe another stack than the one shown. */
export function headRows(stats: HeadStatsPayload | null, stackName: string): HeadRow[] {
  if (!stats || stats.stack !== stackName) return [];
  const c = stats.columns;
  return c.layer.map((layer, i) => ({
    layer,
    head: c.head[i] ?? 0,
    pattern: String(c.pattern[i] ?? ""),
    entropy: c.entropy[i] ?? null,
    distance: c.distance[i] ?? null,
    self: c.self[i] ?? null,
    previous: c.previous[i] ?? null,
    next: c.next[i] ?? null,
    special: c.special[i] ?? null,
  }));
}

/** Rows sorted by `key` (missing values last either way), ties by layer then head. */
export function sortRows(rows: readonly HeadRow[], key: SortKey, descending: boolean): HeadRow[] {
  const sign = descending ? -1 : 1;
  return [...rows].sort((x, y) => {
    const a = x[key];
    const b = y[key];
    if (a === null || b === null) {
      if (a !== b) return a === null ? 1 : -1;
    } else if (a !== b) {
      return sign * (typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b)));
    }
    return x.layer - y.layer || x.head - y.head;
  });
}

/**
 * The Heads panel: one row per layer and head with what it does, sortable by any
 * column; clicking a row shows that layer and head in every panel.
 */
export function createHeadStats(context: PanelContext): Panel {
  const { actions } = context;
  const summary = el("div", { className: "aw-panel-caption", testid: "layer-summary" });
  const header = el("tr");
  const body = el("tbody");
  const table = el("table", { className: "aw-hs-table" }, [el("thead", {}, [header]), body]);
  const scroller = el("div", { className: "aw-hs-scroll" }, [table]);
  const element = el("section", { className: "aw-panel aw-head-stats", testid: "head-stats" }, [
    el("h3", { className: "aw-panel-title", text: "Heads" }),
    summary,
    scroller,
  ]);
  let sort: { key: SortKey; descending: boolean } = { key: "layer", descending: false };
  let last: { state: Readonly<ViewState>; view: View } | null = null;
  let bodyKey = "";
  let drawnStats: HeadStatsPayload | null = null;
  let resort = false;

  header.append(
    ...COLUMNS.map((column) => {
      const button = el("button", { className: "aw-hs-sort", text: column.label, title: column.title, attrs: { type: "button" } });
      button.dataset.key = column.key;
      return el("th", { attrs: { scope: "col" } }, [button]);
    }),
  );

  const cleanups = [
    on(header, "click", (event) => {
      const button = (event.target as HTMLElement).closest<HTMLElement>("[data-key]");
      if (!button) return;
      const key = button.dataset.key as SortKey;
      // A new column sorts its most telling end first: numbers high to low, names A to Z.
      sort = sort.key === key ? { key, descending: !sort.descending } : { key, descending: !["layer", "head", "pattern"].includes(key) };
      resort = true;
      if (last) draw(last.state, last.view);
    }),
    on(body, "click", (event) => select(event.target as HTMLElement)),
    on(body, "keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      select(event.target as HTMLElement);
    }),
  ];

  function select(target: HTMLElement): void {
    const row = target.closest<HTMLElement>("tr[data-layer]");
    if (row) actions.update({ layer: Number(row.dataset.layer), heads: [Number(row.dataset.head)] });
  }

  function draw(state: Readonly<ViewState>, view: View): void {
    const previous = last?.state;
    const unchanged =
      previous && previous.headStats === state.headStats && previous.stack === state.stack && previous.layer === state.layer && previous.heads === state.heads;
    last = { state, view };
    if (unchanged && !resort) return; // a hover or focus change: nothing here to redraw
    resort = false;
    const rows = headRows(state.headStats, view.stack?.name ?? state.stack);
    element.hidden = rows.length === 0;
    if (rows.length === 0) return;
    setText(summary, state.headStats?.summary ? `${state.headStats.summary} (raw attention over tokens)` : "");
    // Rebuild the rows only for new statistics or another sort; a selection change only toggles classes.
    const key = `${sort.key}|${sort.descending}`;
    if (state.headStats !== drawnStats || key !== bodyKey) {
      drawnStats = state.headStats;
      bodyKey = key;
      body.replaceChildren(...sortRows(rows, sort.key, sort.descending).map(rowElement));
    }
    for (const th of Array.from(header.children) as HTMLElement[]) {
      const button = th.firstElementChild as HTMLElement;
      const sorted = button.dataset.key === sort.key;
      th.setAttribute("aria-sort", sorted ? (sort.descending ? "descending" : "ascending") : "none");
    }
    const single = state.heads.length === 1 ? state.heads[0] : -1;
    for (const row of Array.from(body.children) as HTMLElement[]) {
      const layer = Number(row.dataset.layer);
      row.classList.toggle("in-layer", layer === state.layer);
      const selected = layer === state.layer && Number(row.dataset.head) === single;
      row.classList.toggle("is-selected", selected);
      row.setAttribute("aria-selected", String(selected));
    }
  }
  return {
    element,
    draw,
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
    },
  };
}

function rowElement(row: HeadRow): HTMLElement {
  const tr = el(
    "tr",
    { testid: "head-stats-row", title: `Layer ${row.layer}, head ${row.head}: ${PATTERN_DESCRIPTIONS[row.pattern] ?? row.pattern}. Click to show it.` },
    COLUMNS.map((column) => el("td", { className: `aw-hs-${column.key}`, text: column.format(row[column.key]) })),
  );
  tr.tabIndex = 0; // rows are chosen with Enter too
  tr.dataset.layer = String(row.layer);
  tr.dataset.head = String(row.head);
  tr.dataset.pattern = row.pattern;
  return tr;
}
