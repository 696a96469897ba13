import type { AnyModel } from "@anywidget/types";
import { AttentionData } from "../data/attention";
import { decodeCompare } from "../data/compare";
import type { KernelMessage, PageMessage, Payload } from "../data/protocol";
import { connectFetchers } from "./fetch";
import { LATE_MS, lateTimer } from "./late";
import type { Store } from "./store";
import { TRAITS, type SyncedKey, type Traits } from "./traits";
import type { ViewState } from "./viewState";

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

/** How long a refusal from Python stays in the error line. */
export const NOTICE_MS = 6000;

/**
 * Keeps the store and the model in step, and starts the fetchers of what the page
 * lacks (fetch.ts). Returns the actions panels use and a cleanup function.
 *
 * While a run sent from this page is unanswered, Python's changes are held back:
 * answers to older submissions are dropped, and the answer to the last one (its
 * request id arrives in `_request`, with the new state or an error) brings the
 * whole state in at once.
 */
export function connect(model: AnyModel<Traits>, store: Store<ViewState>): { actions: Actions; disconnect: () => void } {
  const cleanups: Array<() => void> = [];
  const listen = (event: `change:${keyof Traits}`, callback: () => void) => {
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
    for (const key of SYNCED_KEYS) (patch as Record<SyncedKey, unknown>)[key] = model.get(TRAITS[key]);
    return patch;
  };

  for (const key of SYNCED_KEYS) {
    const trait = TRAITS[key];
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

  const refused = (content: KernelMessage) => {
    if (content?.type === "refused" && typeof content.message === "string") showNotice(content.message);
  };
  model.on("msg:custom", refused);
  cleanups.push(() => model.off("msg:custom", refused));
  cleanups.push(connectFetchers(model, store));

  const actions: Actions = {
    update(patch) {
      store.set(patch);
      let synced = false;
      for (const [key, value] of Object.entries(patch)) {
        if (!isSynced(key)) continue;
        setTrait(model, key, value);
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
function decodePayload(payload: Traits["_data"] | undefined, store: Store<ViewState>): Partial<ViewState> {
  if (!payload?.stacks) return {};
  try {
    return { data: new AttentionData(payload as Payload), dataRevision: store.get().dataRevision + 1 };
  } catch (error) {
    return { error: `could not read the attention data: ${(error as Error).message}` };
  }
}

const SYNCED_KEYS = Object.keys(TRAITS) as SyncedKey[];

function isSynced(key: string): key is SyncedKey {
  return Object.hasOwn(TRAITS, key);
}

/** Sets a store key's Python twin, whose type is the key's in ViewState (TRAITS pairs them). */
function setTrait(model: AnyModel<Traits>, key: SyncedKey, value: unknown): void {
  const trait: keyof Traits = TRAITS[key];
  model.set(trait, value as Traits[typeof trait]);
}
