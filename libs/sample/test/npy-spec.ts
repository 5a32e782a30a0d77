/**
 * The .npy format written out by hand from its specification (numpy/lib/format.py, NEP 1), independent of
 * @nbm/data, to check the files the sampler writes:
 * magic "\x93NUMPY", major, minor, header length (u16 LE for 1.0, u32 LE for 2.0/3.0), then the header (a Python
 * dict literal with 'descr', 'fortran_order', 'shape', padded with spaces and ended by '\n' so that the data start
 * at a multiple of 64), then the data in C order.
 */
export interface SpecHeader {
  major: number;
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  dataOffset: number;
  headerText: string;
}

export function parseBySpec(bytes: Uint8Array): SpecHeader {
  const magic = Buffer.from(bytes.subarray(0, 6)).toString('latin1');
  if (magic !== '\x93NUMPY') throw new Error(`bad magic ${JSON.stringify(magic)}`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pre = major === 1 ? 10 : 12;
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerText = Buffer.from(bytes.subarray(pre, pre + hlen)).toString('latin1');
  const m = /^\{'descr': '([^']+)', 'fortran_order': (True|False), 'shape': \(([\d, ]*)\), \} *\n$/.exec(headerText);
  if (!m) throw new Error(`header is not the dict the spec describes: ${JSON.stringify(headerText)}`);
  const shape = m[3].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  return { major, descr: m[1], fortranOrder: m[2] === 'True', shape, dataOffset: pre + hlen, headerText };
}

/** A version-1.0 .npy of a 2-D float32 array, byte by byte as the spec lays it out. */
export function handmadeNpy(rows: number, cols: number, data: Float32Array): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const out = new Uint8Array(total + data.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY', 'latin1')], 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, total - 10, true);
  out.fill(0x20, 10, total - 1);
  out.set(Buffer.from(dict, 'latin1'), 10);
  out[total - 1] = 0x0a;
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}
