import type { AnyModel } from "@anywidget/types";
import { AttentionData } from "../data/attention";
import { toDataView } from "../data/decode";
import { decodeCompare } from "../data/compare";
import type { KernelMessage, PageMessage, Payload } from "../data/protocol";
import { CompareFetcher } from "./compareFetcher";
import { LATE_MS, lateTimer } from "./late";
import type { Store } from "./store";
import type { ViewState } from "./viewState";

/** The Python traits mirrored in the store, by store key. */
const TRAITS = {
  stack: "stack",
  layer: "layer",
  heads: "heads",
  focus: "focus",
  direction: "direction",
  pairFilter: "pair_filter",
  hideSpecial: "hide_special",
  threshold: "threshold",
  sentence: "sentence",
  sentenceB: "sentence_b",
  target: "target",
  model: "model",
  models: "models",
  hasModel: "has_model",
  busy: "busy",
  error: "error",
  notes: "notes",
  shapes: "shapes",
  combine: "combine",
  granularity: "granularity",
  compareTo: "compare_to",
  headStats: "_head_stats",
  neuronOpen: "neuron_view",
} as const satisfies Partial<Record<keyof ViewState, string>>;

type SyncedKey = keyof typeof TRAITS;
export type SyncedPatch = Partial<Pick<ViewState, SyncedKey>>;

export interface RunRequest {
  sentence?: string;
  sentenceB?: string;
  target?: string;
  model?: string;
}

/** What panels may do: change the shared state (and Python with it), or ask Python to re-run. */
export interface Actions {
  /** Change view state; keys with a Python twin are sent to the kernel. */
  update(patch: SyncedPatch & Partial<Pick<ViewState, "hover">>): void;
  run(request: RunRequest): void;
  /** Ask Python to compare with a second model among `models` ("" to stop); answered like a run, via `_request`. */
  compare(model: string): void;
}

// The model's state, read loosely: traits are validated in Python.
type Model = AnyModel<Record<string, any>>;

/** How long a refusal from Python stays in the error line. */
export const NOTICE_MS = 6000;

/**
 * Keeps the store and the model in step and fetches layers the page lacks.
 * Returns the actions panels use and a cleanup function.
 *
 * While a run sent from this page is unanswered, Python's changes are held back:
 * answers to older submissions are dropped, and the answer to the last one (its
 * request id arrives in `_request`, with the new state or an error) brings the
 * whole state in at once.
 */
export function connect(model: Model, store: Store<ViewState>): { actions: Actions; disconnect: () => void } {
  const cleanups: Array<() => void> = [];
  const listen = (event: string, callback: (...args: any[]) => void) => {
    model.on(event, callback);
    cleanups.push(() => model.off(event, callback));
  };

  // "Running" is drawn only for a late answer (LATE_MS): `pending` is set by this timer, never at once.
  const late = lateTimer(LATE_MS, () => store.set({ pending: true }));
  cleanups.push(() => late.stop());

  let awaiting: number | null = null; // the request id of this page's last unanswered run
  let lastRequest = 0;
  let decoded: unknown = undefined; // the `_data` object last decoded, so an answer decodes it once
  const readData = (): Partial<ViewState> => {
    const payload = model.get("_data");
    if (payload === decoded) return {};
    decoded = payload;
    return { ...decodePayload(payload, store), hover: null };
  };
  const readTraits = (): Partial<ViewState> => {
    const patch: Partial<ViewState> = {};
    for (const [key, trait] of Object.entries(TRAITS) as [SyncedKey, string][]) {
      (patch as Record<string, unknown>)[key] = model.get(trait);
    }
    return patch;
  };

  for (const [key, trait] of Object.entries(TRAITS) as [SyncedKey, string][]) {
    listen(`change:${trait}`, () => {
      if (awaiting !== null) return; // a newer submission is in flight: its answer brings everything
      if (key === "busy" && model.get("busy")) return late.start(); // a run from Python: shown once late, as `pending`
      const patch: Partial<ViewState> = { [key]: model.get(trait) };
      // Python's run ended: success swaps `_data`, failure sets `error`; `busy` ends either way.
      if ((key === "busy" && !model.get("busy")) || (key === "error" && model.get("error"))) {
        late.stop();
        patch.pending = false;
      }
      store.set(patch);
    });
  }
  let comparedPayload: unknown = undefined; // the `_compare` object last decoded
  const readCompare = (): Partial<ViewState> => {
    const payload = model.get("_compare");
    if (payload === comparedPayload) return {};
    comparedPayload = payload;
    return decodeCompare(payload);
  };
  store.set({ ...readTraits(), ...readData(), ...readCompare(), savedFile: model.get("_static") === true });
  listen("change:_data", () => {
    if (awaiting !== null) return;
    late.stop();
    store.set({ ...readData(), pending: false });
  });
  listen("change:_compare", () => {
    if (awaiting === null) store.set(readCompare());
  });
  listen("change:_request", () => {
    if (awaiting === null || model.get("_request") !== awaiting) return;
    awaiting = null;
    late.stop();
    store.set({ ...readTraits(), ...readData(), ...readCompare(), pending: false });
    // Echo the answer from the page: hosts that re-run the cells reading a widget only on
    // changes made in its page (marimo) then re-run them with the new input.
    model.set("page_runs", model.get("_request"));
    model.save_changes();
  });

  let noticeTimer: ReturnType<typeof setTimeout> | undefined;
  const showNotice = (notice: string) => {
    clearTimeout(noticeTimer);
    store.set({ notice });
    noticeTimer = setTimeout(() => store.set({ notice: "" }), NOTICE_MS);
  };
  cleanups.push(() => clearTimeout(noticeTimer));

  cleanups.push(store.subscribe(() => askHeadStats()));
  let statsAsked = "";
  /** Head statistics are Python's to compute, once per input and stack, after the page has its data. */
  const askHeadStats = () => {
    const { data, stack, headStats } = store.get();
    if (!data) return;
    const key = `${data.version}|${stack}`;
    if (key === statsAsked || (headStats?.version === data.version && headStats.stack === stack)) return;
    statsAsked = key;
    const message: PageMessage = { type: "head_stats", version: data.version, stack: data.stack(stack).name };
    model.send(message);
  };

  const fetcher = new LayerFetcher(model, store);
  const compareFetcher = new CompareFetcher(model, store);
  listen("msg:custom", (content: KernelMessage, buffers: Array<DataView | ArrayBuffer>) => {
    if (content?.type === "refused" && typeof content.message === "string") showNotice(content.message);
    else if (content?.type === "layer" && content.source === "compare") compareFetcher.receive(content, buffers);
    else fetcher.receive(content, buffers);
  });
  cleanups.push(store.subscribe(() => fetcher.request()), () => fetcher.stopWaiting());
  fetcher.request();
  cleanups.push(store.subscribe(() => compareFetcher.request()));
  compareFetcher.request();

  const actions: Actions = {
    update(patch) {
      store.set(patch);
      let synced = false;
      for (const [key, value] of Object.entries(patch)) {
        const trait = TRAITS[key as SyncedKey];
        if (trait === undefined) continue;
        model.set(trait, value);
        synced = true;
      }
      if (synced) model.save_changes();
    },
    run(request) {
      lastRequest = Math.max(lastRequest, Number(model.get("_request")) || 0) + 1;
      const message: PageMessage = { type: "run", request: lastRequest };
      if (request.sentence !== undefined) message.sentence = request.sentence;
      if (request.sentenceB !== undefined) message.sentence_b = request.sentenceB;
      if (request.target !== undefined) message.target = request.target;
      if (request.model !== undefined) message.model = request.model;
      awaiting = lastRequest;
      late.start(); // `pending` is drawn only if the answer is late
      model.send(message);
    },
    compare(modelName) {
      lastRequest = Math.max(lastRequest, Number(model.get("_request")) || 0) + 1;
      const message: PageMessage = { type: "compare", request: lastRequest, model: modelName };
      awaiting = lastRequest;
      store.set({ pending: true });
      model.send(message);
    },
  };
  return { actions, disconnect: () => cleanups.forEach((cleanup) => cleanup()) };
}

/** A payload as store fields; a broken one becomes an error and the last good data stays. */
function decodePayload(payload: Payload | undefined, store: Store<ViewState>): Partial<ViewState> {
  if (!payload || !payload.stacks) return {};
  try {
    return { data: new AttentionData(payload), dataRevision: store.get().dataRevision + 1 };
  } catch (error) {
    return { error: `could not read the attention data: ${(error as Error).message}` };
  }
}

/** How long a layer request may go unanswered before the page says no kernel is behind it. */
export const NO_ANSWER_MS = 4000;

/**
 * Asks Python for the layers the page lacks: the one on screen first, then the
 * rest one at a time in the background, so that the kernel and the page stay
 * responsive and a layer change later is a cache hit.
 */
class LayerFetcher {
  /** The version whose layer request is unanswered; Python drops requests for replaced data. */
  private inFlight: number | null = null;
  /** With no kernel (nbconvert HTML, a notebook viewer) nobody answers: say so instead of loading forever. */
  private readonly unanswered = lateTimer(NO_ANSWER_MS, () => this.store.set({ layersUnanswered: true }));

  constructor(
    private readonly model: Model,
    private readonly store: Store<ViewState>,
  ) {}

  request(): void {
    const { data, stack: stackName, layer } = this.store.get();
    if (!data || this.inFlight === data.version) return;
    const stack = data.stack(stackName);
    const wanted = stack.hasLayer(layer) ? nextMissing(data, stack.name) : { stack: stack.name, layer };
    if (!wanted) return;
    this.inFlight = data.version;
    const message: PageMessage = { type: "layers", version: data.version, stack: wanted.stack, layers: [wanted.layer] };
    this.model.send(message);
    this.waitForAnswer();
  }

  /** Counts NO_ANSWER_MS from now: from the last request or the last part of an answer. */
  private waitForAnswer(): void {
    this.unanswered.stop();
    this.unanswered.start();
  }

  stopWaiting(): void {
    this.unanswered.stop();
  }

  receive(content: KernelMessage, buffers: Array<DataView | ArrayBuffer>): void {
    if (content?.type !== "layer") return;
    const { data, dataRevision } = this.store.get();
    const [heads = 0, rows = 0] = content.shape ?? [];
    const last = content.stop === heads * rows; // the answer's final part
    if (last && content.version === this.inFlight) this.inFlight = null; // a late answer for replaced data changes nothing
    // A kernel is answering: no "not saved" notice, and while parts are still due, wait for them.
    this.stopWaiting();
    if (this.store.get().layersUnanswered) this.store.set({ layersUnanswered: false });
    if (this.inFlight !== null) this.waitForAnswer();
    if (data && data.version === content.version && buffers[0]) {
      try {
        const scales = buffers[1] ? toDataView(buffers[1]) : null;
        if (data.stack(content.stack).setChunk(content.layer, content.start, content.stop, toDataView(buffers[0]), scales)) {
          this.store.set({ dataRevision: dataRevision + 1 });
        }
      } catch (error) {
        this.stopWaiting(); // the error line says what went wrong, not "not saved"
        this.store.set({ error: `could not read layer ${content.layer}: ${(error as Error).message}` });
        return; // do not loop on a layer that cannot be read
      }
    }
    if (last) this.request();
  }
}

/** The first missing layer, the shown stack first, then the others. */
function nextMissing(data: AttentionData, first: string): { stack: string; layer: number } | null {
  const names = [first, ...[...data.stacks.keys()].filter((name) => name !== first)];
  for (const name of names) {
    const missing = data.stack(name).missingLayers();
    if (missing.length > 0) return { stack: name, layer: missing[0]! };
  }
  return null;
}
