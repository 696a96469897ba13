import type { PageMessage } from "../data/protocol";

/** An anywidget model as Jupyter gives it: traits, change events, custom messages. */
export function fakeModel(traits: Record<string, unknown>) {
  const state: Record<string, unknown> = { ...traits };
  const handlers = new Map<string, Set<(...args: any[]) => void>>();
  const sent: PageMessage[] = [];
  const saved: Record<string, unknown>[] = [];
  let pending: Record<string, unknown> = {};
  return {
    sent,
    saved,
    get: (name: string) => state[name],
    set: (name: string, value: unknown) => {
      state[name] = value;
      pending[name] = value;
    },
    save_changes: () => {
      saved.push(pending);
      pending = {};
    },
    on: (event: string, callback: (...args: any[]) => void) => {
      if (!handlers.has(event)) handlers.set(event, new Set());
      handlers.get(event)!.add(callback);
    },
    off: (event?: string | null, callback?: ((...args: any[]) => void) | null) => {
      if (event && callback) handlers.get(event)?.delete(callback);
    },
    send: (message: PageMessage) => sent.push(message),
    /** Python changed a trait. */
    pythonSets(name: string, value: unknown) {
      state[name] = value;
      handlers.get(`change:${name}`)?.forEach((callback) => callback());
    },
    /** One update message from Python: Backbone sets every key, then fires their change events in order. */
    pythonUpdates(update: Record<string, unknown>) {
      Object.assign(state, update);
      for (const name of Object.keys(update)) handlers.get(`change:${name}`)?.forEach((callback) => callback());
    },
    /** Python sent a custom message. */
    pythonSends(content: unknown, buffers: DataView[]) {
      handlers.get("msg:custom")?.forEach((callback) => callback(content, buffers));
    },
    listeners: () => [...handlers.values()].reduce((count, set) => count + set.size, 0),
  };
}
