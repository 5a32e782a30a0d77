import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readScalarEvents, ScalarEventWriter } from '@nbm/report';
import { crc32c, decodeEvent, encodeEvent, FILE_VERSION, frameRecord, maskedCrc32c } from '../src/tensorboard.ts';

const ascii = (s: string) => Buffer.from(s, 'ascii');

describe('TensorBoard event files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nbm-tb-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('CRC-32C', () => {
    it('gives the known answers', () => {
      expect(crc32c(ascii('123456789'))).to.equal(0xe3069283);
      expect(crc32c(new Uint8Array(32))).to.equal(0x8a9136aa);
      expect(crc32c(new Uint8Array(0))).to.equal(0);
    });

    it('masks as TFRecord does: ((crc >>> 15) | (crc << 17)) + 0xa282ead8', () => {
      // by hand for crc 0xE3069283: crc >>> 15 = 0x0001C60D, (crc & 0x7fff) << 17 = 0x25060000,
      // or = 0x2507C60D, + 0xA282EAD8 = 0xC78AB0E5 (mod 2^32)
      expect(maskedCrc32c(ascii('123456789'))).to.equal(0xc78ab0e5);
    });
  });

  describe('encoding', () => {
    it('encodes a scalar Event byte for byte as the spec says', () => {
      const expected = Buffer.from([
        0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f, // field 1 wall_time, wire 1: double 1.5 = 0x3FF8000000000000 LE
        0x10, 0x03, // field 2 step, wire 0: varint 3
        0x2a, 0x0a, // field 5 summary, wire 2: 10 bytes
        0x0a, 0x08, //   Summary field 1 value, wire 2: 8 bytes
        0x0a, 0x01, 0x61, //     Value field 1 tag, wire 2: "a"
        0x15, 0x00, 0x00, 0x00, 0x3f, //     Value field 2 simple_value, wire 5: float 0.5 = 0x3F000000 LE
      ]);
      const event = encodeEvent({ wallTime: 1.5, step: 3, scalars: { a: 0.5 } });
      expect(event.toString('hex')).to.equal(expected.toString('hex'));
      // the record: uint64 LE length 23, its masked CRC, the data, the data's masked CRC
      const record = frameRecord(event);
      expect(record.length).to.equal(8 + 4 + 23 + 4);
      expect(record.subarray(0, 8).toString('hex')).to.equal('1700000000000000');
      expect(record.readUInt32LE(8)).to.equal(maskedCrc32c(Buffer.from('1700000000000000', 'hex')));
      expect(record.subarray(12, 35).equals(expected)).to.equal(true);
      expect(record.readUInt32LE(35)).to.equal(maskedCrc32c(expected));
    });

    it('encodes the file_version event and a step that needs several varint bytes', () => {
      const v = encodeEvent({ wallTime: 0, step: 300, fileVersion: 'brain.Event:2' });
      // 0x09 + 8 zero bytes, step 300 = 0xAC 0x02, field 3 wire 2 (0x1a) of 13 bytes
      expect(v.toString('hex')).to.equal('09' + '00'.repeat(8) + '10ac02' + '1a0d' + ascii('brain.Event:2').toString('hex'));
    });

    it('decodes past fields it does not know, of every wire type', () => {
      const known = encodeEvent({ wallTime: 2.25, step: 7, scalars: { x: 1.25 } });
      const unknown = Buffer.from([
        0x20, 0x96, 0x01, // field 4, varint 150
        0x31, 1, 2, 3, 4, 5, 6, 7, 8, // field 6, fixed64
        0x3d, 1, 2, 3, 4, // field 7, fixed32
        0x42, 0x02, 0xff, 0xff, // field 8, 2 bytes
        // a summary value that is no simple scalar: tag "img" and field 4 (image), skipped
        0x2a, 0x09, 0x0a, 0x07, 0x0a, 0x03, 0x69, 0x6d, 0x67, 0x22, 0x00,
      ]);
      const e = decodeEvent(Buffer.concat([unknown.subarray(0, 21), known, unknown.subarray(21)]));
      expect(e).to.deep.equal({ wallTime: 2.25, step: 7, scalars: { x: 1.25 } });
      expect(() => decodeEvent(Buffer.from([0x0b]))).to.throw(/wire type 3/);
      expect(() => decodeEvent(Buffer.from([0x09, 0x00]))).to.throw(/truncated/);
    });
  });

  it('round trip: what three adds wrote reads back exactly (as float32), after the file_version event', () => {
    const w = ScalarEventWriter.open(join(dir, 'tb'), { wallTimeS: 1700000000.25, host: 'testhost' });
    expect(w.file).to.equal(join(dir, 'tb', 'events.out.tfevents.1700000000.testhost'));
    const adds: Array<[number, Record<string, number>, number]> = [
      [1, { 'train/cd_loss': 0.1, 'train/mse_bias': 1 / 3, 'train/samples_per_s': 12345.678 }, 1700000001.5],
      [2, { 'train/cd_loss': -2e-5, 'train/mse_bias': 1e30, 'train/samples_per_s': 0 }, 1700000002.125],
      [2, { 'val/cd_loss': Math.PI, 'val/mse_var': 7 }, 1700000003],
    ];
    for (const [step, scalars, t] of adds) w.add(step, scalars, t);
    w.add(3, { 'train/cd_loss': undefined as unknown as number, note: 'text' as unknown as number }); // nothing numeric: no event
    w.close();
    const events = readScalarEvents(w.file);
    expect(events).to.have.length(4);
    expect(events[0]).to.deep.equal({ wallTime: 1700000000.25, step: 0, fileVersion: FILE_VERSION, scalars: {} });
    expect(events.slice(1)).to.deep.equal(adds.map(([step, scalars, wallTime]) => ({
      wallTime, step, scalars: Object.fromEntries(Object.entries(scalars).map(([k, v]) => [k, Math.fround(v)])),
    })));
    expect(() => w.add(4, { a: 1 })).to.throw(/closed/);
  });

  it('a corrupted byte makes the reader throw, naming the CRC', () => {
    const w = ScalarEventWriter.open(dir, { wallTimeS: 10, host: 'h' });
    w.add(1, { a: 0.5 }, 11);
    w.close();
    const good = readFileSync(w.file);
    const second = good.readUInt32LE(0) + 16; // where the second record starts
    const flip = (at: number) => {
      const bad = Buffer.from(good);
      bad[at] ^= 0x04;
      writeFileSync(w.file, bad);
    };
    flip(second + 12 + 5); // inside the second record's data
    expect(() => readScalarEvents(w.file)).to.throw(/record 1 at byte \d+: data CRC-32C mismatch/);
    flip(second + 1); // its length
    expect(() => readScalarEvents(w.file)).to.throw(/record 1 at byte \d+: length CRC-32C mismatch/);
    flip(good.length - 1); // the data CRC itself
    expect(() => readScalarEvents(w.file)).to.throw(/data CRC-32C mismatch/);
    writeFileSync(w.file, good.subarray(0, good.length - 2));
    expect(() => readScalarEvents(w.file)).to.throw(/truncated/);
  });

  it('a second writer in the same directory writes a second file, and both read back', () => {
    const a = ScalarEventWriter.open(dir, { wallTimeS: 100, host: 'h' });
    a.add(1, { loss: 2 }, 101);
    a.close();
    const b = ScalarEventWriter.open(dir, { wallTimeS: 100.5, host: 'h' }); // the same second: the same name, taken
    b.add(1, { loss: 1 }, 102);
    b.add(2, { loss: 0.5 }, 103);
    b.close();
    const c = ScalarEventWriter.open(dir); // the current time and host
    c.close();
    const files = readdirSync(dir).sort();
    expect(files).to.have.length(3);
    expect(files.slice(0, 2)).to.deep.equal(['events.out.tfevents.100.h', 'events.out.tfevents.100.h.1']);
    expect(files[2]).to.match(/^events\.out\.tfevents\.\d{10}\./);
    expect(readScalarEvents(a.file).map((e) => e.scalars)).to.deep.equal([{}, { loss: 2 }]);
    expect(readScalarEvents(b.file).map((e) => [e.step, e.scalars])).to.deep.equal([[0, {}], [1, { loss: 1 }], [2, { loss: 0.5 }]]);
    expect(readScalarEvents(c.file)).to.have.length(1);
  });
});
