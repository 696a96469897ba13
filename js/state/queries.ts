import type { AnyModel } from "@anywidget/types";
import { HeadQueries, queriesKey } from "../data/queries";
import type { PageMessage, QueriesMessage } from "../data/protocol";
import { lateTimer, NO_ANSWER_MS } from "./late";
import type { Store } from "./store";
import type { Traits } from "./traits";
import type { ViewState } from "./viewState";

/** Heads kept on the page, so going back to one is instant; each is a few hundred kB at most. */
const CACHED_HEADS = 24;

/** Shown when no kernel answers (a saved notebook, the standalone file): queries and keys are never saved. */
export const QUERIES_NOT_SAVED =
  "The queries and keys are not saved with the notebook or the HTML file: run the cell in a live kernel to see the neuron view.";

/** The head the neuron view opens: the first selected one. */
export function neuronHead(state: Readonly<ViewState>): number {
  return state.heads[0] ?? 0;
}

/**
 * Fetches the shown head's queries and keys while the neuron view is open: asks
 * Python with a `qk` message, puts the row blocks together, and sets `queries`
 * in the store once every block of the head it still shows has arrived.
 */
export function connectQueries(model: AnyModel<Traits>, store: Store<ViewState>): () => void {
  const cache = new Map<string, HeadQueries>();
  let requested = "";
  // Stopped by every answer and by a head served from the cache: it fires only for the head last asked for.
  const unanswered = lateTimer(NO_ANSWER_MS, () => store.set({ queriesError: QUERIES_NOT_SAVED }));

  const wantedKey = (state: Readonly<ViewState>): string | null => {
    if (!state.neuronOpen || !state.data) return null;
    return queriesKey(state.data.version, state.stack, state.layer, neuronHead(state));
  };

  const request = () => {
    const state = store.get();
    const key = wantedKey(state);
    if (key === null || key === requested) return;
    const cached = cache.get(key);
    if (cached?.complete) {
      requested = key;
      unanswered.stop();
      store.set({ queries: cached, queriesError: "" });
      return;
    }
    requested = key;
    cache.delete(key); // a half-received head starts over
    store.set({ queries: null, queriesError: "" });
    const message: PageMessage = { type: "qk", version: state.data!.version, stack: state.stack, layer: state.layer, head: neuronHead(state) };
    model.send(message);
    unanswered.stop();
    unanswered.start();
  };

  const receive = (content: QueriesMessage, buffers: Array<DataView | ArrayBuffer>) => {
    if (content?.type !== "qk") return;
    const key = queriesKey(content.version, content.stack, content.layer, content.head);
    if (key !== requested) return; // an answer for something no longer shown
    unanswered.stop();
    if (typeof content.error === "string") {
      store.set({ queries: null, queriesError: content.error });
      return;
    }
    try {
      let head = cache.get(key);
      if (!head) {
        head = HeadQueries.fromHeader(content);
        cache.set(key, head);
        while (cache.size > CACHED_HEADS) cache.delete(cache.keys().next().value!);
      }
      if (!buffers[0] || (content.part !== "q" && content.part !== "k" && content.part !== "bias")) throw new Error("a queries block without data");
      head.add(content.part, content.row_start ?? -1, content.row_end ?? -1, buffers[0]);
      if (head.complete) store.set({ queries: head, queriesError: "" });
    } catch (error) {
      cache.delete(key);
      store.set({ queries: null, queriesError: `could not read the queries and keys: ${(error as Error).message}` });
    }
  };

  model.on("msg:custom", receive);
  const unsubscribe = store.subscribe(request);
  request();
  return () => {
    model.off("msg:custom", receive);
    unsubscribe();
    unanswered.stop();
  };
}
