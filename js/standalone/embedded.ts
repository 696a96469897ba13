/**
 * Reads the state that src/attnwidget/standalone.py embeds in the page: a JSON script of
 * traits whose arrays are `{"$buffer": [offset, length]}` references into one base64 blob,
 * gzip-compressed when that paid.
 */

export interface EmbeddedState {
  traits: Record<string, unknown>;
  compression: "gzip" | "none";
}

interface BufferReference {
  $buffer: [number, number];
}

export function readEmbeddedState(document: Document, id: string): EmbeddedState {
  const text = document.getElementById(id)?.textContent;
  if (!text) throw new Error(`the page has no #${id} script with the attention data`);
  const state = JSON.parse(text) as EmbeddedState;
  if (typeof state !== "object" || state === null || typeof state.traits !== "object") {
    throw new Error("the embedded attention data is not a state object");
  }
  return state;
}

export function base64Bytes(text: string): Uint8Array {
  const binary = atob(text.trim());
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The blob's bytes, inflated with the browser's own gzip when it was compressed. */
export async function inflate(bytes: Uint8Array, compression: EmbeddedState["compression"]): Promise<ArrayBuffer> {
  if (compression === "none") return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  if (compression !== "gzip") throw new Error(`unknown compression ${String(compression)}`);
  const stream = new Response(bytes as BodyInit).body!.pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}

/** A copy of `value` with every buffer reference replaced by a DataView over `blob`, as Jupyter delivers buffers. */
export function resolveBuffers(value: unknown, blob: ArrayBuffer): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveBuffers(item, blob));
  if (typeof value !== "object" || value === null) return value;
  if (isReference(value)) {
    const [offset, length] = value.$buffer;
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > blob.byteLength) {
      throw new Error(`buffer [${offset}, ${length}] lies outside the ${blob.byteLength}-byte data`);
    }
    return new DataView(blob, offset, length);
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveBuffers(item, blob)]));
}

function isReference(value: object): value is BufferReference {
  const buffer = (value as Partial<BufferReference>).$buffer;
  return Array.isArray(buffer) && buffer.length === 2;
}
