import type { Actions } from "../state/sync";
import type { View } from "../state/view";
import type { ViewState } from "../state/viewState";
import type { Theme } from "./colors";

/** Every panel: an element, a draw from the shared state, and a cleanup. */
export interface Panel {
  readonly element: HTMLElement;
  draw(state: Readonly<ViewState>, view: View): void;
  destroy(): void;
}

export interface PanelContext {
  actions: Actions;
  /** The theme as of the last draw; panels read colours from here, never hard-code them. */
  theme(): Theme;
}
