import type { AnyModel } from "@anywidget/types";
import type { Traits } from "../state/traits";

/** Repaint the canvases when JupyterLab or VS Code switches theme, or the OS does (standalone files). */
export function watchTheme(repaint: () => void): () => void {
  if (typeof MutationObserver !== "function") return () => {};
  const observer = new MutationObserver(repaint);
  observer.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-name", "data-jp-theme-light", "class", "data-vscode-theme-kind"] });
  const scheme = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;
  scheme?.addEventListener("change", repaint);
  return () => {
    observer.disconnect();
    scheme?.removeEventListener("change", repaint);
  };
}

/** The `theme` trait ("light" or "dark" force one, as BertViz's display_mode does; "auto" follows the host). */
export function followThemeTrait(model: AnyModel<Traits>, root: HTMLElement, repaint: () => void): () => void {
  const apply = () => {
    const theme = model.get("theme");
    if (theme === "light" || theme === "dark") root.dataset.theme = theme;
    else delete root.dataset.theme;
  };
  const changed = () => {
    apply();
    repaint();
  };
  apply();
  model.on("change:theme", changed);
  return () => model.off("change:theme", changed);
}
