// The entry of the standalone HTML file (src/attnwidget/standalone.py): the widget's own
// render, over a model that reads the embedded state instead of a kernel.
import widget from "./index";
import type { Traits } from "./state/traits";
import { base64Bytes, inflate, readEmbeddedState, resolveBuffers } from "./standalone/embedded";
import { StaticModel } from "./standalone/staticModel";

async function main(): Promise<void> {
  const root = document.getElementById("attnwidget-root");
  if (!root) return;
  try {
    const state = readEmbeddedState(document, "attnwidget-state");
    const blob = await inflate(base64Bytes(document.getElementById("attnwidget-buffers")?.textContent ?? ""), state.compression);
    // Written by src/attnwidget/standalone.py from the widget's own traits.
    const traits = resolveBuffers(state.traits, blob) as Partial<Traits>;
    const theme = traits.theme;
    if (theme === "light" || theme === "dark") document.documentElement.style.colorScheme = theme;
    widget.render({ model: new StaticModel<Traits>(traits), el: root });
  } catch (error) {
    root.textContent = `This file's attention data could not be read: ${(error as Error).message}`;
    throw error;
  }
}

void main();
