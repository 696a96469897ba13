import type { AnyModel } from "@anywidget/types";

/** Any callback the model interface takes; this model calls them with no arguments (change events). */
type Listener = (...args: never[]) => void;

/**
 * The anywidget model interface over state embedded in a page, with no kernel behind it.
 * `set` notifies `change:<key>` listeners as a Jupyter model does; `save_changes` and `send`
 * have nobody to talk to and do nothing (the file carries every layer, so none is requested).
 */
export class StaticModel<T extends object> implements AnyModel<T> {
  private readonly values: Map<keyof T, unknown>;
  private readonly listeners = new Map<string, Set<Listener>>();
  /** No widget manager: a saved file holds one widget and no shared models. */
  readonly widget_manager = {
    get_model: (id: string): Promise<never> => Promise.reject(new Error(`a saved file has no widget model ${id}`)),
  };

  constructor(values: Partial<T>) {
    this.values = new Map(Object.entries(values) as Array<[keyof T, unknown]>);
  }

  get<K extends keyof T>(key: K): T[K] {
    return this.values.get(key) as T[K];
  }

  set<K extends keyof T>(key: K, value: T[K]): void {
    if (this.values.get(key) === value) return;
    this.values.set(key, value);
    this.listeners.get(`change:${String(key)}`)?.forEach((listener) => listener());
  }

  on(event: string, listener: Listener): void {
    const set = this.listeners.get(event) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(event, set);
  }

  off(event?: string | null, listener?: Listener | null): void {
    if (!event) {
      this.listeners.clear();
    } else if (!listener) {
      this.listeners.delete(event);
    } else {
      this.listeners.get(event)?.delete(listener);
    }
  }

  save_changes(): void {}

  send(): void {}
}
