import type { Dtype, EncodedArray } from "./protocol";

export type TypedArray = Uint8Array | Uint16Array | Int32Array | Float32Array | Float64Array;

const CONSTRUCTORS = {
  uint8: Uint8Array,
  uint16: Uint16Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

/**
 * A typed array over a received buffer. Views the bytes in place when they are
 * aligned for the element type (the usual case) and copies only when not.
 */
export function decodeBuffer(dtype: Dtype, shape: readonly number[], view: DataView): TypedArray {
  const Constructor = CONSTRUCTORS[dtype];
  if (!Constructor) throw new Error(`unsupported dtype ${String(dtype)}`);
  const length = shape.reduce((product, size) => product * size, 1);
  const bytes = length * Constructor.BYTES_PER_ELEMENT;
  if (view.byteLength !== bytes) {
    throw new Error(`buffer of ${view.byteLength} bytes does not hold ${dtype} [${shape.join(", ")}] (${bytes} bytes)`);
  }
  if (view.byteOffset % Constructor.BYTES_PER_ELEMENT === 0) {
    return new Constructor(view.buffer as ArrayBuffer, view.byteOffset, length);
  }
  const copy = view.buffer.slice(view.byteOffset, view.byteOffset + bytes);
  return new Constructor(copy as ArrayBuffer, 0, length);
}

export function decodeArray(encoded: EncodedArray): TypedArray {
  return decodeBuffer(encoded.dtype, encoded.shape, toDataView(encoded.buffer));
}

/** Buffers reach us as DataView in Jupyter, but as ArrayBuffer or typed arrays in some hosts. */
export function toDataView(buffer: DataView | ArrayBuffer | ArrayBufferView): DataView {
  if (buffer instanceof DataView) return buffer;
  if (ArrayBuffer.isView(buffer)) return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  return new DataView(buffer);
}
