/**
 * The one view-state store. Every panel subscribes to it; `set` merges a patch
 * and notifies once per animation frame with the keys that changed, so a change
 * from any control repaints every panel in the same frame.
 */
export type Listener<S> = (state: Readonly<S>, changed: ReadonlySet<keyof S>) => void;

export interface Store<S> {
  get(): Readonly<S>;
  set(patch: Partial<S>): void;
  subscribe(listener: Listener<S>): () => void;
  /** Deliver pending changes now (tests, and measuring a frame). */
  flush(): void;
}

export type Scheduler = (callback: () => void) => void;

export const nextFrame: Scheduler = (callback) => {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(() => callback());
  else setTimeout(callback, 0);
};

export function createStore<S extends object>(initial: S, schedule: Scheduler = nextFrame): Store<S> {
  let state = initial;
  let changed = new Set<keyof S>();
  let scheduled = false;
  const listeners = new Set<Listener<S>>();

  function flush(): void {
    scheduled = false;
    if (changed.size === 0) return;
    const delivered = changed;
    changed = new Set();
    for (const listener of listeners) listener(state, delivered);
  }

  return {
    get: () => state,
    set(patch) {
      let any = false;
      for (const key of Object.keys(patch) as (keyof S)[]) {
        if (!Object.is(state[key], patch[key])) {
          changed.add(key);
          any = true;
        }
      }
      if (!any) return;
      state = { ...state, ...patch };
      if (!scheduled) {
        scheduled = true;
        schedule(flush);
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    flush,
  };
}
