/**
 * Building DOM from data. Text always goes through `textContent`: tokens,
 * sentences, model names and errors come from users and are never HTML.
 */
export interface ElementOptions {
  className?: string;
  testid?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElementOptions = {},
  children: Node[] = [],
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (options.className) element.className = options.className;
  if (options.testid) element.dataset.testid = options.testid;
  if (options.text !== undefined) element.textContent = options.text;
  if (options.title !== undefined) element.title = options.title;
  for (const [name, value] of Object.entries(options.attrs ?? {})) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** Add a listener and get back the function that removes it. */
export function on<K extends keyof HTMLElementEventMap>(
  target: HTMLElement | Window,
  type: K,
  listener: (event: HTMLElementEventMap[K]) => void,
  options?: AddEventListenerOptions,
): () => void {
  target.addEventListener(type, listener as EventListener, options);
  return () => target.removeEventListener(type, listener as EventListener, options);
}

/** Replace the options of a <select>, keeping it untouched when they are the same. */
export function setOptions(select: HTMLSelectElement, options: Array<{ value: string; label: string }>): void {
  const same =
    select.options.length === options.length &&
    options.every((option, index) => select.options[index]?.value === option.value && select.options[index]?.textContent === option.label);
  if (same) return;
  select.replaceChildren(...options.map((option) => el("option", { text: option.label, attrs: { value: option.value } })));
}

/** Set an element's text only when it differs: assigning textContent always replaces the text node and costs a relayout. */
export function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}
