/** The page's state connected to a fake kernel: what the sync and fetch tests share. */
import type { LayerMessage, Payload } from "../data/protocol";
import { createStore } from "../state/store";
import { connect } from "../state/sync";
import type { Traits } from "../state/traits";
import { initialViewState, type ViewState } from "../state/viewState";
import { fakeModel } from "./fakeModel";
import { encodeLayer, randomWeights } from "./fixtures";

/** Three layers of two heads over four tokens. */
export const WEIGHTS = randomWeights(3, 2, 4, 4, { seed: 7 });

/** The store connected to a model holding `payload`, layer 0 and both heads shown, unless `traits` say otherwise. */
export function connectPage(payload: Payload, traits: Partial<Traits> = {}) {
  const model = fakeModel({ layer: 0, heads: [0, 1], focus: null, stack: "self", busy: false, error: "", _data: payload, ...traits });
  const store = createStore<ViewState>(initialViewState, () => {});
  const { actions, disconnect } = connect(model, store);
  store.flush();
  return { model, store, actions, disconnect };
}

/** Python's answer to a layer request, in messages of `rowsPerMessage` of the layer's 2 × 4 flat rows. */
export function layerReplies(version: number, layer: number, rowsPerMessage = 8, extra: Partial<LayerMessage> = {}): Array<[LayerMessage, DataView[]]> {
  const { codes, scales } = encodeLayer(WEIGHTS[layer]!);
  const replies: Array<[LayerMessage, DataView[]]> = [];
  for (let start = 0; start < 8; start += rowsPerMessage) {
    const stop = Math.min(8, start + rowsPerMessage);
    const message: LayerMessage = { type: "layer", version, stack: "self", layer, dtype: "uint8", shape: [2, 4, 4], start, stop, ...extra };
    const chunk = codes.slice(start * 4, stop * 4);
    const chunkScales = scales.slice(start, stop);
    replies.push([message, [new DataView(chunk.buffer), new DataView(chunkScales.buffer)]]);
  }
  return replies;
}

/** The whole of a layer in one message. */
export function layerReply(version: number, layer: number): [LayerMessage, DataView[]] {
  return layerReplies(version, layer)[0]!;
}
