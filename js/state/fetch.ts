import type { AnyModel } from "@anywidget/types";
import type { KernelMessage, PageMessage } from "../data/protocol";
import { CompareFetcher } from "./compareFetcher";
import { LayerFetcher } from "./layerFetcher";
import type { Store } from "./store";
import type { Traits } from "./traits";
import type { ViewState } from "./viewState";

/**
 * Asks Python for what the page lacks once it has its data: head statistics, the
 * layers `_data` did not bring, and the comparison's layers; routes the answers.
 * Returns a cleanup function.
 */
export function connectFetchers(model: AnyModel<Traits>, store: Store<ViewState>): () => void {
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
  const cleanups = [store.subscribe(() => askHeadStats())];

  const fetcher = new LayerFetcher(model, store);
  const compareFetcher = new CompareFetcher(model, store);
  const receive = (content: KernelMessage, buffers: Array<DataView | ArrayBuffer>) => {
    if (content?.type !== "layer") return;
    if (content.source === "compare") compareFetcher.receive(content, buffers);
    else fetcher.receive(content, buffers);
  };
  model.on("msg:custom", receive);
  cleanups.push(() => model.off("msg:custom", receive));
  cleanups.push(store.subscribe(() => fetcher.request()), () => fetcher.stopWaiting());
  fetcher.request();
  cleanups.push(store.subscribe(() => compareFetcher.request()));
  compareFetcher.request();
  return () => cleanups.forEach((cleanup) => cleanup());
}
