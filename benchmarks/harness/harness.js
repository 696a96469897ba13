// The harness page's logic: load a widget state dumped from Python (fixture.py),
// render the real bundle against a FakeModel, answer the page's messages the way the
// kernel would, and measure.
//
// URL parameters of index.html:
//   data=<url of a fixture's manifest.json>  (required)
//   bundle=<url of widget.js>                (default /static/widget.js)
//   css=<url of widget.css>                  (default /static/widget.css; "" for none)
//   mount=0                                  (do not render on load: a benchmark calls harness.mount())
//
// When mounted automatically, <body data-harness="ready"> is set once the first
// paint is done and every layer the page asked for has been answered and drawn,
// so a screenshot test only has to wait for that selector. Errors set
// data-harness="error" and window.harness.error.
//
// How time is measured (see `measure`): performance.now() right before the action
// (mounting, dispatching an event, applying a kernel update), then two
// requestAnimationFrame callbacks. The widget's store batches changes to one
// animation frame; our first rAF callback is queued after the store's, so it runs in
// the frame that draws the change, and the second runs at the start of the next
// frame, after the first has been rendered: that is "frame", the headline figure.
// Frames are paced by the browser (16.7 ms at 60 Hz, even headless), so "frame" is
// at least one frame and includes the wait for the next one: a change costing 1 ms
// shows 17-33 ms. Hovers and layer changes start after a random 0-16 ms delay, as a
// user's input does not arrive in step with frames. "work" (the JavaScript of the
// handlers plus the drawing frame's own scripting, style, layout and paint) is the
// cost without the pacing; "sync" is the handlers' part alone.

import { FakeModel, putBuffers } from "./fake_model.js";

import { changeLayers, frames, hoverTokens, measure, now } from "./timing.js";

export { frames, measure };

async function fetchBuffer(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** A widget state as sent by Python: JSON plus buffers at paths, loaded ahead of time. */
class StoredState {
  constructor(json, urls) {
    this.json = json; // { state, buffer_paths, buffers: [file] }
    this.urls = urls;
    this.buffers = null;
  }

  async load() {
    this.buffers = await Promise.all(this.urls.map(fetchBuffer));
  }

  bytes() {
    return (this.buffers ?? []).reduce((sum, buffer) => sum + (buffer?.byteLength ?? 0), 0);
  }

  /**
   * The state with DataViews in place. The buffers are handed over (the page owns
   * them now), unless `keep`: then the page gets copies and the state can be taken again.
   */
  take(keep = false) {
    if (this.buffers === null || this.buffers.some((buffer) => buffer === null)) {
      throw new Error("state not loaded, or already handed over");
    }
    const state = structuredClone(this.json.state);
    putBuffers(state, this.json.buffer_paths, keep ? this.buffers.map((buffer) => buffer.slice(0)) : this.buffers);
    if (!keep) this.buffers = this.buffers.map(() => null);
    return state;
  }
}

/**
 * Plays the kernel: answers `layers` requests from pre-dumped layer messages and
 * `run` requests from pre-dumped updates, asynchronously, one task per message,
 * like messages arriving from a kernel.
 */
class FakeKernel {
  constructor(fixture, baseUrl) {
    this.baseUrl = baseUrl;
    this.answers = new Map(); // "version/stack/layer" -> the answer's parts: [{ content, urls, buffers }]
    this.updates = new Map(); // name -> { sentence, steps: StoredState[] }
    this.model = null;
    this.pending = 0; // messages scheduled and not yet delivered
    this.activity = 0; // increases with every message in either direction
    this.requests = []; // what the page asked for, in order
    this.unanswered = []; // requests the fixture had no answer for
    this.addAnswers(fixture.messages ?? []);
    for (const [name, update] of Object.entries(fixture.updates ?? {})) {
      this.addAnswers(update.messages ?? []);
      this.updates.set(name, {
        sentence: update.sentence,
        steps: update.steps.map((step) => new StoredState(step, step.buffers.map((file) => this.url(file)))),
      });
    }
  }

  url(file) {
    return new URL(file, this.baseUrl).href;
  }

  addAnswers(messages) {
    for (const message of messages) {
      const { version, stack, layer } = message.content;
      const key = `${version}/${stack}/${layer}`;
      const part = { content: message.content, urls: message.buffers.map((file) => this.url(file)), buffers: null };
      this.answers.set(key, [...(this.answers.get(key) ?? []), part]); // a large layer comes in several parts
    }
  }

  parts() {
    return [...this.answers.values()].flat();
  }

  async preload() {
    await Promise.all(this.parts().map(async (part) => (part.buffers = await Promise.all(part.urls.map(fetchBuffer)))));
    for (const update of this.updates.values()) await Promise.all(update.steps.map((step) => step.load()));
  }

  /** Bytes of kernel-side data the page has not been handed (subtracted from heap figures). */
  heldBytes() {
    let bytes = 0;
    for (const part of this.parts()) for (const buffer of part.buffers ?? []) bytes += buffer.byteLength;
    for (const update of this.updates.values()) for (const step of update.steps) bytes += step.bytes();
    return bytes;
  }

  receive(content, _buffers) {
    this.activity += 1;
    this.requests.push(content);
    if (content?.type === "layers") {
      for (const layer of content.layers ?? []) this.answerLayer(content.version, content.stack, layer);
    } else if (content?.type === "run") {
      const update = [...this.updates.values()].find((candidate) => candidate.sentence === content.sentence);
      if (update) this.schedule(() => this.applyUpdate(update));
      else this.unanswered.push(content);
    }
  }

  answerLayer(version, stack, layer) {
    const answer = this.answers.get(`${version}/${stack}/${layer}`);
    if (!answer) {
      this.unanswered.push({ type: "layers", version, stack, layers: [layer] });
      return;
    }
    for (const part of answer) {
      this.schedule(async () => {
        // Buffers are handed over once; asked again (after the page dropped them), they are fetched again.
        const buffers = part.buffers ?? (await Promise.all(part.urls.map(fetchBuffer)));
        part.buffers = null;
        this.model.emitCustom(part.content, buffers.map((buffer) => new DataView(buffer)));
      });
    }
  }

  /** Apply an update's state messages in order (busy on, busy off, the new data). */
  applyUpdate(update) {
    for (const step of update.steps) this.model.applyKernelUpdate(step.take());
  }

  schedule(deliver) {
    this.pending += 1;
    setTimeout(async () => {
      try {
        await deliver();
      } finally {
        this.pending -= 1;
        this.activity += 1;
      }
    }, 0);
  }
}

export class Harness {
  constructor({ bundleUrl, cssUrl, container }) {
    this.bundleUrl = bundleUrl;
    this.cssUrl = cssUrl;
    this.container = container;
    this.widget = null;
    this.fixture = null;
    this.kernel = null;
    this.model = null;
    this.el = null;
    this.cleanup = null;
    this.error = null;
  }

  /** Import the bundle and its CSS, fetch the fixture and every buffer it refers to. */
  async load(dataUrl) {
    const manifestUrl = new URL(dataUrl, location.href).href;
    const [module, fixture] = await Promise.all([import(this.bundleUrl), fetchJson(manifestUrl)]);
    if (this.cssUrl) await this.addCss(this.cssUrl);
    this.widget = module.default;
    if (!this.widget || typeof this.widget.render !== "function") {
      throw new Error(`${this.bundleUrl} has no default export with render()`);
    }
    this.fixture = fixture;
    this.initial = new StoredState(fixture, fixture.buffers.map((file) => new URL(file, manifestUrl).href));
    this.kernel = new FakeKernel(fixture, manifestUrl);
    await Promise.all([this.initial.load(), this.kernel.preload()]);
    return {
      name: fixture.name,
      stateBufferBytes: this.initial.bytes(),
      kernelBytes: this.kernel.heldBytes(),
    };
  }

  addCss(url) {
    return new Promise((resolve, reject) => {
      const link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = url;
      link.onload = resolve;
      link.onerror = () => reject(new Error(`cannot load ${url}`));
      document.head.append(link);
    });
  }

  /** Create the model from the loaded state and render the widget (anywidget's initialize + render). */
  async mount(state = this.initial.take()) {
    this.model = new FakeModel(state, this.kernel);
    this.kernel.model = this.model;
    this.el = document.createElement("div");
    this.el.className = "harness-widget";
    this.container.append(this.el);
    if (typeof this.widget.initialize === "function") await this.widget.initialize({ model: this.model });
    const cleanup = await this.widget.render({ model: this.model, el: this.el });
    this.cleanup = typeof cleanup === "function" ? cleanup : null;
  }

  unmount() {
    this.cleanup?.();
    this.cleanup = null;
    this.el?.remove();
    this.el = null;
  }

  /**
   * Data arrival to first paint: create the model and render, then two frames.
   * `tokensShown` says whether token elements existed by then. With `keep`, the
   * page gets a copy of the state, so that it can be unmounted and mounted again.
   */
  async firstPaint({ keep = false } = {}) {
    const state = this.initial.take(keep); // outside the timing: a kernel message is already decoded
    const result = await measure(() => this.mount(state));
    return { ...result, tokensShown: this.tokens().length > 0 };
  }

  /**
   * Wait until the page has no request left unanswered and nothing new happened for
   * two frames. Returns 0 when nothing was in flight, else the ms from the call to
   * then (the page asks for missing layers one at a time, so after a first paint
   * this is the time until every layer is cached and drawn, plus those two quiet frames).
   */
  async settle(timeoutMs = 120000) {
    const since = now();
    let busy = this.kernel.pending > 0;
    for (;;) {
      const before = this.kernel.activity;
      await frames(2);
      if (this.kernel.pending === 0 && this.kernel.activity === before) return busy ? now() - since : 0;
      busy = true;
      if (now() - since > timeoutMs) throw new Error("the page did not settle");
    }
  }

  tokens() {
    return this.el ? [...this.el.querySelectorAll("[data-testid=token]")] : [];
  }

  /** Hover `count` tokens spread over the input, one after another; ms per hover. */
  async hoverTokens(count) {
    return hoverTokens(this.el, count);
  }

  /** Change the layer `count` times through the layer select, cycling through its options. */
  async changeLayers(count) {
    return changeLayers(this.el, count);
  }

  /** The page asks for a re-run of `sentence`, as its sentence box would. */
  requestRun(sentence) {
    this.model.send({ type: "run", sentence });
  }

  /**
   * Apply a pre-dumped re-run update directly (what Python sends after a `run`):
   * the steps before the one carrying `_data` untimed, then that one timed.
   */
  async repaint(name) {
    const update = this.kernel.updates.get(name);
    if (!update) throw new Error(`the fixture has no update ${name}`);
    const steps = update.steps.map((step) => step.take());
    const dataIndex = steps.findIndex((state) => "_data" in state);
    steps.slice(0, dataIndex).forEach((state) => this.model.applyKernelUpdate(state));
    await frames(2);
    const result = await measure(() => this.model.applyKernelUpdate(steps[dataIndex]));
    steps.slice(dataIndex + 1).forEach((state) => this.model.applyKernelUpdate(state));
    return result;
  }

  memory() {
    const memory = performance.memory;
    return {
      usedJSHeapSize: memory?.usedJSHeapSize ?? null,
      totalJSHeapSize: memory?.totalJSHeapSize ?? null,
      kernelHeldBytes: this.kernel?.heldBytes() ?? 0,
    };
  }

  summary() {
    return {
      tokens: this.tokens().length,
      requests: this.kernel?.requests ?? [],
      unanswered: this.kernel?.unanswered ?? [],
      saved: this.model?.saved ?? [],
      listeners: this.model?.listenerCount() ?? 0,
    };
  }
}

/** Entry point of index.html. */
export async function boot() {
  const params = new URLSearchParams(location.search);
  const container = document.getElementById("harness-root");
  const harness = new Harness({
    bundleUrl: new URL(params.get("bundle") ?? "/static/widget.js", location.href).href,
    cssUrl: params.has("css") ? params.get("css") : "/static/widget.css",
    container,
  });
  window.harness = harness;
  harness.frames = frames;
  harness.measure = measure;
  try {
    const data = params.get("data");
    if (!data) throw new Error("pass ?data=<url of a fixture's manifest.json>");
    harness.loaded = await harness.load(data);
    document.body.dataset.harness = "loaded";
    if (params.get("mount") !== "0") {
      await harness.mount();
      await harness.settle();
      document.body.dataset.harness = "ready";
    }
  } catch (error) {
    harness.error = String(error?.stack ?? error);
    document.body.dataset.harness = "error";
    console.error(error);
  }
}
