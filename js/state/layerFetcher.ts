import type { AnyModel } from "@anywidget/types";
import type { AttentionData } from "../data/attention";
import { toDataView } from "../data/decode";
import type { LayerMessage, PageMessage } from "../data/protocol";
import { lateTimer, NO_ANSWER_MS } from "./late";
import type { Store } from "./store";
import type { Traits } from "./traits";
import type { ViewState } from "./viewState";

/**
 * Asks Python for the layers the page lacks: the one on screen first, then the
 * rest one at a time in the background, so that the kernel and the page stay
 * responsive and a layer change later is a cache hit.
 */
export class LayerFetcher {
  /** The version whose layer request is unanswered; Python drops requests for replaced data. */
  private inFlight: number | null = null;
  /** With no kernel (nbconvert HTML, a notebook viewer) nobody answers: say so instead of loading forever. */
  private readonly unanswered = lateTimer(NO_ANSWER_MS, () => this.store.set({ layersUnanswered: true }));

  constructor(
    private readonly model: AnyModel<Traits>,
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

  receive(content: LayerMessage, buffers: Array<DataView | ArrayBuffer>): void {
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
