import type { AnyModel } from "@anywidget/types";
import { attachLong, LongAttention, longOf } from "../data/longAttention";
import type { KernelMessage } from "../data/protocol";
import { NO_ANSWER_MS } from "./late";
import type { Store } from "./store";
import type { Traits } from "./traits";
import type { ViewState } from "./viewState";

/**
 * Gives every long stack of the data a LongAttention that sends its requests to
 * Python, takes in the `long` answers and bumps `dataRevision` so the panels
 * repaint from the cache. With no kernel behind the page (a saved notebook) a
 * request goes unanswered: `layersUnanswered` makes the panels say so.
 */
export function connectLong(model: AnyModel<Traits>, store: Store<ViewState>): () => void {
  let noAnswer: ReturnType<typeof setTimeout> | null = null;
  const watch = (long: LongAttention) => {
    if (noAnswer !== null || long.waitingSince === null) return;
    noAnswer = setTimeout(() => {
      noAnswer = null;
      if (long.waitingSince !== null && performance.now() - long.waitingSince >= NO_ANSWER_MS) store.set({ layersUnanswered: true });
      else watch(long);
    }, NO_ANSWER_MS);
  };

  const attach = () => {
    const data = store.get().data;
    for (const stack of data?.stacks.values() ?? []) {
      if (!stack.long || longOf(stack)) continue;
      const long: LongAttention = new LongAttention(data!.version, stack, (request) => {
        model.send(request);
        watch(long);
      });
      attachLong(stack, long);
    }
  };

  const receive = (content: KernelMessage, buffers: Array<DataView | ArrayBuffer>) => {
    if (content?.type !== "long") return;
    const { data, dataRevision, layersUnanswered } = store.get();
    const stack = data?.stacks.get(content.stack);
    const long = stack ? longOf(stack) : null;
    if (!long) return;
    try {
      if (!long.receive(content, buffers)) return;
    } catch (error) {
      store.set({ error: `could not read the long input's ${String(content.what)}: ${(error as Error).message}` });
      return;
    }
    const error = typeof content.error === "string" ? { error: content.error } : {}; // Python's reason, in the error line
    store.set({ dataRevision: dataRevision + 1, ...error, ...(layersUnanswered ? { layersUnanswered: false } : {}) });
  };

  model.on("msg:custom", receive);
  const unsubscribe = store.subscribe(attach);
  attach();
  return () => {
    model.off("msg:custom", receive);
    unsubscribe();
    if (noAnswer !== null) clearTimeout(noAnswer);
  };
}
