/** A long input on the page, connected to a fake kernel: what the long-input tests of the fetcher and the panels share. */
import { longOf } from "../data/longAttention";
import type { LongMessage, LongRequest, Payload } from "../data/protocol";
import { connectLong } from "../state/longFetcher";
import { createStore } from "../state/store";
import { connect } from "../state/sync";
import { ViewDeriver } from "../state/view";
import { initialViewState, type ViewState } from "../state/viewState";
import { fakeModel } from "./fakeModel";
import { asLongInput, makePayload, randomWeights } from "./fixtures";

/** Tokens of the long input. */
export const N = 6;
const WEIGHTS = randomWeights(2, 3, N, N, { seed: 5 });

/** What Python sends for an input over max_attention_bytes: tokens, no layers, no row scales. */
function longPayload(version = 3): Payload {
  return asLongInput(makePayload({ weights: WEIGHTS, causal: true }, version));
}

/** The page over a long input: layer 1, heads 0 and 2 shown; `requests` are the `long` messages sent so far. */
export function connectLongInput() {
  const model = fakeModel({ _data: longPayload(), stack: "self", layer: 1, heads: [0, 2] });
  const store = createStore<ViewState>(initialViewState, () => {});
  const { disconnect } = connect(model, store);
  const stop = connectLong(model, store);
  store.flush();
  const long = () => longOf(store.get().data!.stack("self"))!;
  const view = () => new ViewDeriver().derive(store.get());
  const requests = () => model.sent.filter((message): message is LongRequest => message.type === "long");
  return { model, store, long, view, requests, stop: () => (stop(), disconnect()) };
}

export function floats(values: number[]): DataView {
  return new DataView(new Float32Array(values).buffer);
}

/** Python's answer to `request`, as the arguments of a custom message. */
export function answer(request: LongRequest, shape: number[], buffers: DataView[], extra: Partial<LongMessage> = {}): [LongMessage, DataView[]] {
  return [{ type: "long", version: request.version, stack: request.stack, id: request.id, what: request.what, shape, ...extra }, buffers];
}
