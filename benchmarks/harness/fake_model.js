// A stand-in for the anywidget model a widget's `render({ model, el })` receives in
// Jupyter, backed by a widget state dumped from Python (see fixture.py) instead of
// a kernel. It implements the part of the AnyModel API widgets use:
//
//   get(name) / set(name, value) / save_changes()
//   on(event, callback) / off(event?, callback?)
//   send(content, callbacks?, buffers?)
//
// Events follow ipywidgets: "change:<trait>" and "change" after traits change, and
// "msg:custom" with (content, buffers: DataView[]) for custom messages from Python.
//
// The harness plays the kernel through `kernel` (an object with `receive(content,
// buffers)` for messages the page sends) and through the harness-side methods below
// (`applyKernelUpdate`, `emitCustom`), which deliver what Python would send.

/** Put binary buffers back into a JSON state at their paths, as DataViews (ipywidgets' put_buffers). */
export function putBuffers(state, bufferPaths, buffers) {
  bufferPaths.forEach((path, index) => {
    let target = state;
    for (const key of path.slice(0, -1)) target = target[key];
    const buffer = buffers[index];
    target[path[path.length - 1]] = buffer instanceof DataView ? buffer : new DataView(buffer);
  });
  return state;
}

export class FakeModel {
  /**
   * @param {Record<string, unknown>} state the widget's traits, buffers already put back as DataViews
   * @param {{ receive(content: unknown, buffers: DataView[]): void } | null} kernel who gets `send`
   */
  constructor(state, kernel = null) {
    this.state = { ...state };
    this.kernel = kernel;
    this.listeners = new Map(); // event name -> Set of callbacks
    this.pending = {}; // traits set by the page and not yet saved
    this.saved = []; // every save_changes(): the traits the page sent to Python
    this.sent = []; // every send(): the custom messages the page sent to Python
  }

  // ---- the AnyModel API used by the widget --------------------------------------------

  get(name) {
    return this.state[name];
  }

  set(name, value) {
    const previous = this.state[name];
    this.state[name] = value;
    this.pending[name] = value;
    if (!Object.is(previous, value)) {
      this._emit(`change:${name}`, this, value);
      this._emit("change", this);
    }
  }

  save_changes() {
    const changes = this.pending;
    this.pending = {};
    if (Object.keys(changes).length > 0) this.saved.push(changes);
  }

  on(event, callback) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(callback);
  }

  off(event, callback) {
    if (event === undefined || event === null) {
      this.listeners.clear();
    } else if (callback === undefined || callback === null) {
      this.listeners.delete(event);
    } else {
      this.listeners.get(event)?.delete(callback);
    }
  }

  send(content, callbacks, buffers) {
    const views = (buffers ?? []).map((buffer) =>
      buffer instanceof DataView ? buffer : ArrayBuffer.isView(buffer)
        ? new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
        : new DataView(buffer),
    );
    this.sent.push(content);
    this.kernel?.receive(content, views);
  }

  // ---- the kernel side ----------------------------------------------------------------

  /**
   * Apply a state update from Python as ipywidgets does: every trait is set first,
   * then "change:<trait>" fires for each, then one "change".
   */
  applyKernelUpdate(partialState) {
    const changed = [];
    for (const [name, value] of Object.entries(partialState)) {
      this.state[name] = value;
      changed.push(name);
    }
    for (const name of changed) this._emit(`change:${name}`, this, this.state[name]);
    if (changed.length > 0) this._emit("change", this);
  }

  /** Deliver a custom message from Python to the page. */
  emitCustom(content, buffers = []) {
    this._emit("msg:custom", content, buffers);
  }

  listenerCount() {
    let count = 0;
    for (const callbacks of this.listeners.values()) count += callbacks.size;
    return count;
  }

  _emit(event, ...args) {
    const callbacks = this.listeners.get(event);
    if (!callbacks) return;
    for (const callback of [...callbacks]) callback(...args);
  }
}
