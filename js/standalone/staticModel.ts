import type { AnyModel } from "@anywidget/types";

type Listener = (...args: unknown[]) => void;

/**
 * The anywidget model interface over state embedded in a page, with no kernel behind it.
 * `set` notifies `change:<key>` listeners as a Jupyter model does; `save_changes` and `send`
 * have nobody to talk to and do nothing (the file carries every layer, so none is requested).
 */
export class StaticModel {
  private readonly values: Map<string, unknown>;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(values: Record<string, unknown>) {
    this.values = new Map(Object.entries(values));
  }

  get(key: string): any {
    return this.values.get(key);
  }

  set(key: string, value: unknown): void {
    if (this.values.get(key) === value) return;
    this.values.set(key, value);
    this.listeners.get(`change:${key}`)?.forEach((listener) => listener());
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

  /** This model typed as the one anywidget hands to `render`. */
  asAnyModel(): AnyModel<Record<string, any>> {
    return this as unknown as AnyModel<Record<string, any>>;
  }
}
