import type { AnyModel } from "@anywidget/types";
import { toDataView } from "../data/decode";
import type { LayerMessage, PageMessage } from "../data/protocol";
import type { Store } from "./store";
import type { Traits } from "./traits";
import type { ViewState } from "./viewState";

/**
 * Asks Python for the comparison's layers the compare panel needs now: A's selected
 * layer and the layer of B matched with it, one request at a time. `_compare` brings
 * only what fits in 1 MiB; the rest come on demand, each in parts under 1 MiB.
 */
export class CompareFetcher {
  /** The comparison version whose layer request is unanswered. */
  private inFlight: number | null = null;

  constructor(
    private readonly model: AnyModel<Traits>,
    private readonly store: Store<ViewState>,
  ) {}

  request(): void {
    const { compare, layer } = this.store.get();
    if (!compare || this.inFlight === compare.version) return;
    const wanted = neededLayers(compare.a.nLayers, layer, compare.layerOfB.bind(compare)).find(
      ({ stack, layer: index }) => !compare[stack].hasLayer(index),
    );
    if (!wanted) return;
    this.inFlight = compare.version;
    const message: PageMessage = { type: "compare_layers", version: compare.version, stack: wanted.stack, layers: [wanted.layer] };
    this.model.send(message);
  }

  receive(content: LayerMessage, buffers: Array<DataView | ArrayBuffer>): void {
    const { compare, compareRevision } = this.store.get();
    const [heads = 0, rows = 0] = content.shape ?? [];
    const last = content.stop === heads * rows;
    if (last && content.version === this.inFlight) this.inFlight = null;
    if (!compare || compare.version !== content.version || !buffers[0] || (content.stack !== "a" && content.stack !== "b")) return;
    try {
      const scales = buffers[1] ? toDataView(buffers[1]) : null;
      if (compare[content.stack].setChunk(content.layer, content.start, content.stop, toDataView(buffers[0]), scales)) {
        this.store.set({ compareRevision: compareRevision + 1 });
      }
    } catch (error) {
      this.store.set({ error: `could not read layer ${content.layer} of the comparison: ${(error as Error).message}` });
      return; // do not loop on a layer that cannot be read
    }
    if (last) this.request();
  }
}

/** The layers the compare panel draws for A's `layer`: that layer of A and its match in B. */
function neededLayers(nLayers: number, layer: number, layerOfB: (layer: number) => number): Array<{ stack: "a" | "b"; layer: number }> {
  const shown = Math.min(Math.max(layer, 0), nLayers - 1);
  return [
    { stack: "a", layer: shown },
    { stack: "b", layer: layerOfB(shown) },
  ];
}
