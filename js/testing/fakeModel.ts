import type { AnyModel } from "@anywidget/types";
import type { PageMessage } from "../data/protocol";
import type { Traits } from "../state/traits";

type Callback = (...args: never[]) => void;

/**
 * An anywidget model as Jupyter gives it: traits, change events, custom messages.
 * What "Python" sets is left untyped, as a kernel's values are until validated.
 */
export function fakeModel(traits: Partial<Traits>) {
  const state: Partial<Record<keyof Traits, unknown>> = { ...traits };
  const handlers = new Map<string, Set<(...args: unknown[]) => void>>();
  const sent: PageMessage[] = [];
  const saved: Partial<Traits>[] = [];
  let pending: Partial<Traits> = {};
  const model: AnyModel<Traits> = {
    get: <K extends keyof Traits>(name: K) => state[name] as Traits[K],
    set: <K extends keyof Traits>(name: K, value: Traits[K]) => {
      state[name] = value;
      pending[name] = value;
    },
    save_changes: () => {
      saved.push(pending);
      pending = {};
    },
    on: (event: string, callback: Callback) => {
      if (!handlers.has(event)) handlers.set(event, new Set());
      handlers.get(event)!.add(callback as (...args: unknown[]) => void);
    },
    off: (event?: string | null, callback?: Callback | null) => {
      if (event && callback) handlers.get(event)?.delete(callback as (...args: unknown[]) => void);
    },
    send: (message: PageMessage) => sent.push(message),
    widget_manager: { get_model: () => Promise.reject(new Error("a fake model has no widget manager")) },
  };
  return Object.assign(model, {
    sent,
    saved,
    /** Python changed a trait. */
    pythonSets(name: keyof Traits, value: unknown) {
      state[name] = value;
      handlers.get(`change:${name}`)?.forEach((callback) => callback());
    },
    /** One update message from Python: Backbone sets every key, then fires their change events in order. */
    pythonUpdates(update: Partial<Record<keyof Traits, unknown>>) {
      Object.assign(state, update);
      for (const name of Object.keys(update)) handlers.get(`change:${name}`)?.forEach((callback) => callback());
    },
    /** Python sent a custom message. */
    pythonSends(content: unknown, buffers: DataView[]) {
      handlers.get("msg:custom")?.forEach((callback) => callback(content, buffers));
    },
    listeners: () => [...handlers.values()].reduce((count, set) => count + set.size, 0),
  });
}
