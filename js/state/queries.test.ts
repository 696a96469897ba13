import { describe, expect, it, vi } from "vitest";
import type { QueriesMessage } from "../data/protocol";
import { fakeModel } from "../testing/fakeModel";
import { makePayload, randomWeights } from "../testing/fixtures";
import { connectQueries, QUERIES_NOT_SAVED } from "./queries";
import { createStore } from "./store";
import { NO_ANSWER_MS } from "./late";
import { connect } from "./sync";
import { initialViewState, type ViewState } from "./viewState";

const WEIGHTS = randomWeights(2, 2, 3, 3, { seed: 3 });

function setUp() {
  const model = fakeModel({ _data: makePayload({ weights: WEIGHTS }, 4), stack: "self", layer: 1, heads: [1], neuron_view: false });
  const store = createStore<ViewState>(initialViewState, () => {});
  const { actions, disconnect } = connect(model, store);
  const stop = connectQueries(model, store);
  store.flush();
  return { model, store, actions, stop: () => (stop(), disconnect()) };
}

/** Python's answer for (layer 1, head 1): q, k of 3 tokens × 2 dims, in blocks of `rows` rows. */
function reply(version: number, head = 1, rows = 3): Array<[QueriesMessage, DataView[]]> {
  const header = { type: "qk" as const, version, stack: "self", layer: 1, head, key_head: head, scale: 0.5, rows: 3, cols: 3, d_head: 2, has_bias: false };
  const values = { q: [1, 2, 3, 4, 5, 6], k: [6, 5, 4, 3, 2, 1] };
  const messages: Array<[QueriesMessage, DataView[]]> = [];
  for (const part of ["q", "k"] as const) {
    for (let start = 0; start < 3; start += rows) {
      const end = Math.min(3, start + rows);
      const block = new Float32Array(values[part].slice(start * 2, end * 2));
      messages.push([{ ...header, part, row_start: start, row_end: end }, [new DataView(block.buffer)]]);
    }
  }
  return messages;
}

describe("connectQueries", () => {
  it("says the queries were not saved when no kernel answers, and never once one does", () => {
    vi.useFakeTimers();
    try {
      const { model, actions, store } = setUp();
      actions.update({ neuronOpen: true });
      store.flush();
      vi.advanceTimersByTime(NO_ANSWER_MS - 1);
      store.flush();
      expect(store.get().queriesError).toBe("");
      vi.advanceTimersByTime(1);
      store.flush();
      expect(store.get().queriesError).toBe(QUERIES_NOT_SAVED);

      actions.update({ heads: [0] }); // another head, and this time the kernel answers
      store.flush();
      expect(store.get().queriesError).toBe("");
      reply(4, 0).forEach(([content, buffers]) => model.pythonSends(content, buffers));
      vi.advanceTimersByTime(10 * NO_ANSWER_MS);
      store.flush();
      expect(store.get().queriesError).toBe("");
      expect(store.get().queries?.head).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("asks for the shown head only while the neuron view is open", () => {
    const { model, actions, store } = setUp();
    expect(model.sent.filter((message) => message.type === "qk")).toEqual([]);
    actions.update({ neuronOpen: true });
    store.flush();
    expect(model.sent.at(-1)).toEqual({ type: "qk", version: 4, stack: "self", layer: 1, head: 1 });
  });

  it("puts the row blocks together and publishes the head once it is complete", () => {
    const { model, actions, store } = setUp();
    actions.update({ neuronOpen: true });
    store.flush();
    const blocks = reply(4, 1, 2);
    blocks.slice(0, -1).forEach(([content, buffers]) => model.pythonSends(content, buffers));
    store.flush();
    expect(store.get().queries).toBeNull();
    model.pythonSends(...blocks.at(-1)!);
    store.flush();
    const queries = store.get().queries!;
    expect(Array.from(queries.query(2))).toEqual([5, 6]);
    expect(Array.from(queries.key(0))).toEqual([6, 5]);
  });

  it("ignores answers for a head no longer shown and serves a head seen before from its cache", () => {
    const { model, actions, store } = setUp();
    actions.update({ neuronOpen: true });
    store.flush();
    reply(4).forEach(([content, buffers]) => model.pythonSends(content, buffers));
    store.flush();
    const first = store.get().queries;
    actions.update({ heads: [0] });
    store.flush();
    reply(4, 1).forEach(([content, buffers]) => model.pythonSends(content, buffers)); // late, for head 1
    store.flush();
    expect(store.get().queries).toBeNull();
    const asked = model.sent.length;
    actions.update({ heads: [1] });
    store.flush();
    expect(store.get().queries).toBe(first);
    expect(model.sent.length).toBe(asked); // no new request
  });

  it("shows Python's reason when the neuron view is not available, and a broken block as an error", () => {
    const { model, actions, store } = setUp();
    actions.update({ neuronOpen: true });
    store.flush();
    model.pythonSends({ type: "qk", version: 4, stack: "self", layer: 1, head: 1, error: "the neuron view is not available for X" }, []);
    store.flush();
    expect(store.get().queriesError).toBe("the neuron view is not available for X");
  });

  it("refuses a block of the wrong size without throwing", () => {
    const { model, actions, store } = setUp();
    actions.update({ neuronOpen: true });
    store.flush();
    const [content] = reply(4)[0]!;
    model.pythonSends(content, [new DataView(new ArrayBuffer(4))]);
    store.flush();
    expect(store.get().queriesError).toMatch(/could not read the queries and keys: a q block of 4 bytes/);
  });

  it("removes its listener on cleanup", () => {
    const { model, stop } = setUp();
    stop();
    expect(model.listeners()).toBe(0);
  });
});
