// How the benchmark times an action, shared by the harness page (harness.js) and the
// real JupyterLab page (lab.py imports it into the page): performance.now() before the
// action, then two requestAnimationFrame callbacks (see `measure`), and the hover and
// layer-change loops, which only need the widget's root element.

export const now = () => performance.now();

/** Resolve after `count` animation frames. */
export function frames(count = 2) {
  return new Promise((resolve) => {
    const step = (remaining) => (remaining === 0 ? resolve() : requestAnimationFrame(() => step(remaining - 1)));
    step(count);
  });
}

/**
 * Time an action. All in ms from just before it:
 *   sync   until it returned (event handlers' JavaScript);
 *   frame  until two animation frames later (the benchmark's headline figure);
 *   paint  until the frame that drew the change finished rendering (a task posted from
 *          our first rAF callback runs after that frame's style, layout and paint);
 *   work   sync + that frame's own time (paint minus the wait for the frame to begin):
 *          the CPU cost of the change, without the browser's frame pacing.
 */
export async function measure(action) {
  const start = now();
  await action();
  const syncEnd = now();
  let frameStart = 0;
  const painted = new Promise((resolve) =>
    requestAnimationFrame((timestamp) => {
      frameStart = timestamp;
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve(now());
      channel.port2.postMessage(null);
    }),
  );
  const paintEnd = await painted;
  await frames(1);
  const frameEnd = now();
  return {
    sync: syncEnd - start,
    frame: frameEnd - start,
    paint: paintEnd - start,
    work: syncEnd - start + (paintEnd - Math.max(frameStart, syncEnd)),
  };
}

/** Wait a random part of a frame, so that actions do not always start right after one. */
export function jitter() {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 16));
}

/** Hover `count` tokens of `root` spread over the input, one after another; timings per hover. */
export async function hoverTokens(root, count) {
  const results = [];
  let previous = null;
  for (let index = 0; index < count; index += 1) {
    const tokens = [...root.querySelectorAll("[data-testid=token]")];
    if (tokens.length === 0) throw new Error("no [data-testid=token] element to hover");
    // A stride coprime with most lengths visits tokens all over the input.
    const target = tokens[(index * 7919 + 1) % tokens.length];
    const box = target.getBoundingClientRect();
    await jitter();
    const point = { bubbles: true, cancelable: true, view: window, clientX: box.x + box.width / 2, clientY: box.y + box.height / 2 };
    results.push(
      await measure(() => {
        if (previous && previous.isConnected) {
          previous.dispatchEvent(new MouseEvent("mouseout", { ...point, relatedTarget: target }));
        }
        target.dispatchEvent(new MouseEvent("mouseover", { ...point, relatedTarget: previous }));
        target.dispatchEvent(new MouseEvent("mousemove", point));
      }),
    );
    previous = target;
  }
  return results;
}

/**
 * The method's floor: `count` actions that change nothing, timed as a hover is (same jitter,
 * same two frames). Even a change that costs nothing shows one to two frames later, so a
 * hover's p95 can only meet "two frames" if its own work fits inside the frame that draws it.
 */
export async function doNothing(count) {
  const results = [];
  for (let index = 0; index < count; index += 1) {
    await jitter();
    results.push(await measure(() => {}));
  }
  return results;
}

/** Change the layer of `root` `count` times through its layer select, cycling through the options. */
export async function changeLayers(root, count) {
  const results = [];
  for (let index = 0; index < count; index += 1) {
    const select = root.querySelector("[data-testid=layer-select]");
    if (!select || select.options.length < 2) throw new Error("no [data-testid=layer-select] with two options");
    const next = (select.selectedIndex + 1) % select.options.length;
    await jitter();
    results.push(
      await measure(() => {
        select.value = select.options[next].value;
        select.dispatchEvent(new Event("input", { bubbles: true }));
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }),
    );
  }
  return results;
}
