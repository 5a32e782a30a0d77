import { expect } from 'chai';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CheckpointError,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  type TensorInput,
} from '@nbm/checkpoint';
import { handMadeFile, tempDir } from './helpers.ts';

const PATH = 'runs/x/checkpoints/epoch-001.safetensors';

function good(): Uint8Array {
  return encodeSafetensors(
    [
      { name: 'a', dtype: 'F32', shape: [4, 3], data: new Float32Array(12).map((_, i) => i / 7) },
      { name: 'b', dtype: 'U8', shape: [5], data: new Uint8Array([1, 2, 3, 4, 5]) },
    ],
    { k: 'v' },
  );
}

function headerLength(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
}

/** Asserts `fn` throws a corrupt-kind CheckpointError whose message names PATH and matches `pattern`. */
function expectCorrupt(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'should throw').to.be.instanceOf(CheckpointError);
  const err = caught as CheckpointError;
  expect(err.kind).to.equal('corrupt');
  expect(err.path).to.equal(PATH);
  expect(err.message).to.contain(`checkpoint ${PATH} is corrupt: `);
  expect(err.message).to.match(pattern);
}

const entry = (dtype: string, shape: number[], begin: number, end: number) =>
  JSON.stringify({ dtype, shape, data_offsets: [begin, end] });

describe('safetensors: damaged files give clear errors', () => {
  it('a flipped data byte is a checksum mismatch', () => {
    const bytes = good();
    bytes[bytes.length - 7] ^= 0x01;
    expectCorrupt(() => decodeSafetensors(bytes, PATH), /^checkpoint \S+ is corrupt: checksum mismatch$/);
  });

  it('a flipped byte anywhere, header or data, is detected (property)', () => {
    const original = good();
    const n = headerLength(original);
    fc.assert(
      fc.property(fc.nat(original.length - 1), fc.integer({ min: 1, max: 255 }), (at, mask) => {
        const bytes = original.slice();
        bytes[at] ^= mask;
        // Header padding turned from a space into other JSON whitespace leaves the same header: harmless.
        const harmless = at >= 8 && at < 8 + n && original[at] === 0x20 && [0x09, 0x0a, 0x0d].includes(bytes[at]);
        if (harmless) return;
        expect(() => decodeSafetensors(bytes, PATH), `flip ${mask} at byte ${at}`).to.throw(CheckpointError);
      }),
      { numRuns: 500 },
    );
  });

  it('a changed metadata value is a header checksum mismatch', () => {
    const bytes = good();
    const n = headerLength(bytes);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    const at = text.indexOf('"k":"v"') + 5;
    bytes[8 + at] = 'w'.charCodeAt(0);
    expectCorrupt(() => decodeSafetensors(bytes, PATH), /checksum mismatch in the header$/);
  });

  it('a file with only one of the two checksums is refused', () => {
    const data = [1, 2, 3, 4];
    const json = `{"__metadata__":{"nbm.sha256":"00"},"a":${entry('U8', [4], 0, 4)}}`;
    expectCorrupt(() => decodeSafetensors(handMadeFile(json, data), PATH), /header checksum nbm.header_sha256 is missing/);
  });

  it('a file truncated anywhere is refused', () => {
    const bytes = good();
    for (let len = 0; len < bytes.length; len++) {
      expectCorrupt(() => decodeSafetensors(bytes.subarray(0, len), PATH), /truncated|checksum|belong to no tensor/);
    }
    expectCorrupt(() => decodeSafetensors(bytes.subarray(0, 5), PATH), /truncated: the file has 5 bytes/);
    expectCorrupt(() => decodeSafetensors(bytes.subarray(0, bytes.length - 1), PATH), /ends at data byte \d+ .*truncated/);
  });

  it('garbage in place of the header', () => {
    const bytes = good();
    bytes.fill(0x41, 8, 8 + 10);
    expectCorrupt(() => decodeSafetensors(bytes, PATH), /header is not valid JSON/);
    expectCorrupt(() => decodeSafetensors(handMadeFile('[1,2]', []), PATH), /not a JSON object/);
    expectCorrupt(() => decodeSafetensors(handMadeFile('{"a":', []), PATH), /not valid JSON/);
    const badUtf8 = handMadeFile('{"a":1}', []);
    badUtf8[9] = 0xff;
    expectCorrupt(() => decodeSafetensors(badUtf8, PATH), /not valid UTF-8/);
  });

  it('a header length beyond the file or absurdly large', () => {
    const bytes = good().slice();
    new DataView(bytes.buffer).setBigUint64(0, 1n << 40n, true);
    expectCorrupt(() => decodeSafetensors(bytes, PATH), /bad header length 1099511627776/);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(bytes.length), true);
    expectCorrupt(() => decodeSafetensors(bytes, PATH), /header claims \d+ bytes but only \d+ follow/);
  });

  it('offsets outside the data, overlapping, leaving holes, or not matching dtype × shape', () => {
    const data = Array(8).fill(0);
    const cases: Array<[string, RegExp]> = [
      [`{"a":${entry('F32', [2], 0, 12)}}`, /tensor a ends at data byte 12 but the data section has only 8 bytes/],
      [`{"a":${entry('F32', [2], 0, 8)},"b":${entry('F32', [1], 4, 8)}}`, /tensors a and b overlap/],
      [`{"a":${entry('F32', [1], 4, 8)}}`, /data bytes 0\.\.4 belong to no tensor/],
      [`{"a":${entry('F32', [1], 0, 4)}}`, /data bytes 4\.\.8 belong to no tensor/],
      [`{"a":${entry('F32', [3], 0, 8)}}`, /tensor a occupies 8 bytes but F32 \[3\] needs 12/],
      [`{"a":${entry('F32', [2], 8, 0)}}`, /tensor a has invalid data_offsets \[8,0\]/],
      [`{"a":${entry('BF16', [4], 0, 8)}}`, /tensor a has unsupported dtype "BF16"/],
      [`{"a":${entry('F32', [-2], 0, 8)}}`, /tensor a has an invalid shape \[-2\]/],
      [`{"a":5}`, /header entry a is not an object/],
      [`{"__metadata__":{"k":3},"a":${entry('U8', [8], 0, 8)}}`, /__metadata__\.k is not a string/],
      [`{"a":{"dtype":"U8","data_offsets":[0,8]}}`, /tensor a has no shape array/],
    ];
    for (const [json, pattern] of cases) expectCorrupt(() => decodeSafetensors(handMadeFile(json, data), PATH), pattern);
  });

  it('readSafetensors names the file on disk', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'bad.safetensors');
      writeFileSync(path, new Uint8Array([1, 2, 3]));
      const err = await readSafetensors(path).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err?.message).to.equal(`checkpoint ${path} is corrupt: truncated: the file has 3 bytes, fewer than the 8-byte header length`);
    } finally {
      cleanup();
    }
  });
});

describe('safetensors: bad input to the writer is refused before touching the disk', () => {
  const cases: Array<[string, TensorInput[], Record<string, string>, RegExp]> = [
    ['wrong length', [{ name: 'a', dtype: 'F32', shape: [2, 3], data: new Float32Array(5) }], {}, /tensor a has 5 values but shape \[2,3\] needs 6/],
    ['wrong array type', [{ name: 'a', dtype: 'F64', shape: [2], data: new Float32Array(2) }], {}, /tensor a is F64 but its data is a Float32Array, not a Float64Array/],
    ['duplicate', [{ name: 'a', dtype: 'U8', shape: [1], data: new Uint8Array(1) }, { name: 'a', dtype: 'U8', shape: [1], data: new Uint8Array(1) }], {}, /tensor a appears twice/],
    ['reserved name', [{ name: '__metadata__', dtype: 'U8', shape: [1], data: new Uint8Array(1) }], {}, /cannot be a tensor name/],
    ['bad dtype', [{ name: 'a', dtype: 'BF16' as 'F32', shape: [1], data: new Float32Array(1) }], {}, /unsupported dtype BF16/],
    ['bad shape', [{ name: 'a', dtype: 'U8', shape: [1.5], data: new Uint8Array(1) }], {}, /invalid shape \[1\.5\]/],
    ['reserved metadata', [], { 'nbm.sha256': 'x' }, /nbm.sha256 is reserved for the checksum/],
    ['reserved header metadata', [], { 'nbm.header_sha256': 'x' }, /nbm.header_sha256 is reserved/],
    ['non-string metadata', [], { k: 5 as unknown as string }, /metadata k must be a string/],
  ];
  for (const [label, tensors, metadata, pattern] of cases) {
    it(label, async () => {
      const { dir, cleanup } = tempDir();
      try {
        const path = join(dir, 'out.safetensors');
        const err = await writeSafetensors(path, tensors, metadata).then(
          () => null,
          (e: unknown) => e as CheckpointError,
        );
        expect(err).to.be.instanceOf(CheckpointError);
        expect(err!.kind).to.equal('invalid');
        expect(err!.message).to.contain(`cannot write checkpoint ${path}: `).and.to.match(pattern);
        const { readdirSync } = await import('node:fs');
        expect(readdirSync(dir)).to.deep.equal([]);
      } finally {
        cleanup();
      }
    });
  }
});
