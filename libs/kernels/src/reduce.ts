/** Views of a flat gradient vector (parameters in order), one per tensor size. */
export function split(flat: Float32Array, sizes: readonly number[]): Float32Array[] {
  let o = 0;
  const out = sizes.map((n) => flat.subarray(o, (o += n)));
  if (o !== flat.length) throw new RangeError(`sizes add up to ${o}, the vector has ${flat.length} values`);
  return out;
}
