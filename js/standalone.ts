// The entry of the standalone HTML file (src/attnwidget/standalone.py): the widget's own
// render, over a model that reads the embedded state instead of a kernel.
import type { RenderProps } from "@anywidget/types";
import widget from "./index";
import { base64Bytes, inflate, readEmbeddedState, resolveBuffers } from "./standalone/embedded";
import { StaticModel } from "./standalone/staticModel";

async function main(): Promise<void> {
  const root = document.getElementById("attnwidget-root");
  if (!root) return;
  try {
    const state = readEmbeddedState(document, "attnwidget-state");
    const blob = await inflate(base64Bytes(document.getElementById("attnwidget-buffers")?.textContent ?? ""), state.compression);
    const traits = resolveBuffers(state.traits, blob) as Record<string, unknown>;
    const theme = traits.theme;
    if (theme === "light" || theme === "dark") document.documentElement.style.colorScheme = theme;
    const model = new StaticModel(traits);
    const props = { model: model.asAnyModel(), el: root, signal: new AbortController().signal } as unknown as RenderProps<Record<string, any>>;
    widget.render(props);
  } catch (error) {
    root.textContent = `This file's attention data could not be read: ${(error as Error).message}`;
    throw error;
  }
}

void main();
