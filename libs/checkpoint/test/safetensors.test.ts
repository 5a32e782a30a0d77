import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHECKSUM_KEY,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  type TensorInput,
} from '@nbm/checkpoint';
import { bytesOf, handMadeFile, tempDir } from './helpers.ts';

/** Float32 bit patterns that a sloppy codec would change: signed zero, denormals, extremes, infinities. */
function trickyFloat32(): Float32Array {
  const bits = new Uint32Array([
    0x80000000, // -0
    0x00000001, // smallest positive denormal
    0x807fffff, // largest negative denormal
    0x7f7fffff, // largest finite
    0xff800000, // -Inf
    0x7f800000, // +Inf
    0x3f800000, // 1
    0x00800000, // smallest normal
  ]);
  return new Float32Array(bits.buffer);
}

function trickyFloat64(): Float64Array {
  return new Float64Array([-0, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Infinity, Math.PI]);
}

function header(bytes: Uint8Array): { length: number; json: Record<string, any> } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  return { length, json };
}

describe('safetensors round trip', () => {
  const tensors: TensorInput[] = [
    { name: 'f32', dtype: 'F32', shape: [2, 4], data: trickyFloat32() },
    { name: 'u8', dtype: 'U8', shape: [3], data: new Uint8Array([0, 128, 255]) },
    { name: 'f64', dtype: 'F64', shape: [3, 2], data: trickyFloat64() },
    { name: 'i64', dtype: 'I64', shape: [4], data: new BigInt64Array([0n, -1n, -(2n ** 63n), 2n ** 63n - 1n]) },
    { name: 'u32', dtype: 'U32', shape: [1, 2], data: new Uint32Array([0, 0xffffffff]) },
    { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([7]) },
    { name: 'empty', dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
  ];

  it('gives back every tensor bit for bit, with its dtype and shape, and the metadata', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'all.safetensors');
      const metadata = { note: 'héllo ✓', json: '{"a":[1,2]}', empty: '' };
      await writeSafetensors(path, tensors, metadata);
      const back = await readSafetensors(path);
      expect(back.checksum).to.equal('verified');
      expect(back.metadata).to.deep.equal(metadata);
      expect([...back.tensors.keys()]).to.deep.equal(tensors.map((t) => t.name));
      for (const t of tensors) {
        const got = back.tensors.get(t.name)!;
        expect(got.dtype, t.name).to.equal(t.dtype);
        expect(got.shape, t.name).to.deep.equal(t.shape);
        expect(got.data.constructor, t.name).to.equal(t.data.constructor);
        expect(bytesOf(got.data), t.name).to.deep.equal(bytesOf(t.data));
        expect(got.data.byteOffset % (got.data as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT).to.equal(0);
      }
      // -0 really is -0, not +0
      expect(Object.is((back.tensors.get('f32')!.data as Float32Array)[0], -0)).to.equal(true);
    } finally {
      cleanup();
    }
  });

  it('does not alias the input: the read arrays are copies', () => {
    const data = new Float32Array([1, 2]);
    const bytes = encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [2], data }]);
    const back = decodeSafetensors(bytes);
    (back.tensors.get('a')!.data as Float32Array)[0] = 99;
    expect(data[0]).to.equal(1);
    expect(decodeSafetensors(bytes).tensors.get('a')!.data[0]).to.equal(1);
  });

  it('starts the data section at a multiple of 8 and aligns every tensor to its element size', () => {
    for (const name of ['a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg', 'abcdefgh']) {
      const bytes = encodeSafetensors(
        [
          { name: `${name}.u8`, dtype: 'U8', shape: [3], data: new Uint8Array(3) },
          { name: `${name}.f32`, dtype: 'F32', shape: [3], data: new Float32Array(3) },
          { name: `${name}.f64`, dtype: 'F64', shape: [1], data: new Float64Array(1) },
        ],
        {},
      );
      const { length, json } = header(bytes);
      expect((8 + length) % 8, name).to.equal(0);
      expect(bytes[8 + length - 1], 'padding is spaces or the closing brace').to.be.oneOf([0x20, 0x7d]);
      for (const [key, entry] of Object.entries(json)) {
        if (key === '__metadata__') continue;
        const width = { U8: 1, F32: 4, F64: 8 }[entry.dtype as 'U8' | 'F32' | 'F64'];
        expect(entry.data_offsets[0] % width, key).to.equal(0);
      }
    }
  });

  it('stores the SHA-256 of the data section in __metadata__', async () => {
    const { createHash } = await import('node:crypto');
    const bytes = encodeSafetensors([{ name: 'x', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }]);
    const { length, json } = header(bytes);
    const expected = createHash('sha256').update(bytes.subarray(8 + length)).digest('hex');
    expect(json.__metadata__[CHECKSUM_KEY]).to.equal(expected);
  });

  it('reads a file assembled by hand from the spec (no padding, no metadata, no checksum)', async () => {
    const file = handMadeFile(
      '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"n":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},' +
        '"b":{"dtype":"U8","shape":[1,3],"data_offsets":[16,19]}}',
      [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, ...Array(8).fill(0xff), 1, 2, 3],
    );
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'hand.safetensors');
      writeFileSync(path, file);
      const back = await readSafetensors(path);
      expect(back.checksum).to.equal('absent');
      expect(back.metadata).to.deep.equal({});
      expect([...back.tensors.get('w')!.data]).to.deep.equal([1, -2]);
      expect([...back.tensors.get('n')!.data]).to.deep.equal([-1n]);
      expect(back.tensors.get('b')!.shape).to.deep.equal([1, 3]);
      expect([...back.tensors.get('b')!.data]).to.deep.equal([1, 2, 3]);
    } finally {
      cleanup();
    }
  });

  it('writes the exact bytes the spec prescribes for a small file', () => {
    const bytes = encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
    const { length, json } = header(bytes);
    expect(json.w).to.deep.equal({ dtype: 'F32', shape: [1], data_offsets: [0, 4] });
    expect(bytes.length).to.equal(8 + length + 4);
    expect([...bytes.subarray(8 + length)]).to.deep.equal([0x00, 0x00, 0x80, 0x3f]);
    expect(String.fromCharCode(bytes[8])).to.equal('{');
  });

  it('handles names that are special to JavaScript objects (__proto__, constructor)', () => {
    const metadata = JSON.parse('{"__proto__":"x","toString":"y"}') as Record<string, string>;
    const back = decodeSafetensors(
      encodeSafetensors(
        [
          { name: '__proto__', dtype: 'F32', shape: [1], data: new Float32Array([3]) },
          { name: 'constructor', dtype: 'U8', shape: [1], data: new Uint8Array([1]) },
        ],
        metadata,
      ),
    );
    expect([...back.tensors.keys()]).to.deep.equal(['__proto__', 'constructor']);
    expect([...back.tensors.get('__proto__')!.data]).to.deep.equal([3]);
    expect(Object.entries(back.metadata)).to.deep.equal([['__proto__', 'x'], ['toString', 'y']]);
  });

  it('round-trips arbitrary float32 tensors bit for bit (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.array(fc.integer(), { maxLength: 20 })), {
          maxLength: 6,
        }),
        fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => !k.startsWith('nbm.')), fc.string({ maxLength: 20 })),
        (entries, metadata) => {
          const unique = new Map(entries.filter(([n]) => n !== '__metadata__'));
          const tensors: TensorInput[] = [...unique].map(([name, ints]) => ({
            name,
            dtype: 'F32',
            shape: [ints.length],
            data: new Float32Array(new Int32Array(ints).buffer), // arbitrary bit patterns, NaNs included
          }));
          const back = decodeSafetensors(encodeSafetensors(tensors, metadata));
          expect(back.metadata).to.deep.equal({ ...metadata });
          for (const t of tensors) expect(bytesOf(back.tensors.get(t.name)!.data)).to.deep.equal(bytesOf(t.data));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the written file on disk equals encodeSafetensors', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const t: TensorInput[] = [{ name: 'x', dtype: 'U32', shape: [3], data: new Uint32Array([1, 2, 3]) }];
      await writeSafetensors(join(dir, 'x.safetensors'), t, { a: 'b' });
      expect(new Uint8Array(readFileSync(join(dir, 'x.safetensors')))).to.deep.equal(encodeSafetensors(t, { a: 'b' }));
    } finally {
      cleanup();
    }
  });
});
