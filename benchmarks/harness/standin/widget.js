// A trivial stand-in for the attnwidget bundle, to check the harness and the
// benchmark's measuring code without the real front end:
//   python benchmarks/run.py --quick --bundle benchmarks/harness/standin
// It reads `_data` like the real page (uint8 codes per layer), shows the tokens as
// [data-testid=token] spans, a [data-testid=layer-select], and the layer's first
// head on a canvas; batches changes to one animation frame; and fetches missing
// layers one at a time with `{type: "layers"}` messages.

function codes(encoded) {
  const view = encoded.buffer;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function render({ model, el }) {
  let state = { data: model.get("_data"), layer: model.get("layer"), hover: null, cache: new Map() };
  let scheduled = false;
  let inFlight = false;
  const set = (patch) => {
    state = { ...state, ...patch };
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(() => {
        scheduled = false;
        draw();
      });
    }
  };

  const root = document.createElement("div");
  root.className = "standin";
  const select = document.createElement("select");
  select.dataset.testid = "layer-select";
  const tokens = document.createElement("div");
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 256;
  root.append(select, tokens, canvas);
  el.append(root);

  const stack = () => state.data.stacks[Object.keys(state.data.stacks)[0]];
  const layerCodes = (layer) => {
    const encoded = stack().layers[String(layer)];
    return encoded ? codes(encoded) : state.cache.get(layer) ?? null;
  };

  function fetchMissing() {
    if (inFlight) return;
    const current = stack();
    for (let layer = 0; layer < current.n_layers; layer += 1) {
      if (!layerCodes(layer)) {
        inFlight = true;
        model.send({ type: "layers", version: state.data.version, stack: current.name, layers: [layer] });
        return;
      }
    }
  }

  function draw() {
    const current = stack();
    if (select.options.length !== current.n_layers) {
      select.replaceChildren(...Array.from({ length: current.n_layers }, (_, i) => new Option(`Layer ${i}`, String(i))));
    }
    select.value = String(state.layer);
    if (tokens.childElementCount !== current.rows.length || tokens.dataset.version !== String(state.data.version)) {
      tokens.dataset.version = String(state.data.version);
      tokens.replaceChildren(
        ...current.rows.map((text, index) => {
          const span = document.createElement("span");
          span.dataset.testid = "token";
          span.dataset.index = String(index);
          span.textContent = `${text} `;
          return span;
        }),
      );
    }
    for (const span of tokens.children) span.style.background = Number(span.dataset.index) === state.hover ? "#fd0" : "";
    const values = layerCodes(state.layer);
    const context = canvas.getContext("2d");
    const n = current.cols.length;
    context.clearRect(0, 0, canvas.width, canvas.height);
    if (values) {
      const image = context.createImageData(n, current.rows.length);
      for (let i = 0; i < image.width * image.height; i += 1) image.data[i * 4 + 3] = values[i];
      context.putImageData(image, 0, 0);
    }
  }

  const onData = () => set({ data: model.get("_data"), cache: new Map() });
  const onMessage = (content, buffers) => {
    inFlight = false;
    if (content.type === "layer" && content.version === state.data.version) {
      const view = buffers[0];
      state.cache.set(content.layer, new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      set({});
    }
    fetchMissing();
  };
  const onSelect = () => {
    const layer = Number(select.value);
    set({ layer });
    model.set("layer", layer);
    model.save_changes();
  };
  const onHover = (event) => {
    const token = event.target.closest("[data-testid=token]");
    if (token) set({ hover: Number(token.dataset.index) });
  };
  model.on("change:_data", onData);
  model.on("msg:custom", onMessage);
  select.addEventListener("change", onSelect);
  tokens.addEventListener("mouseover", onHover);
  draw();
  fetchMissing();
  return () => {
    model.off("change:_data", onData);
    model.off("msg:custom", onMessage);
    root.remove();
  };
}

export default { render };
