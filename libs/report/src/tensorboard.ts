/**
 * TensorBoard scalars, written from the public event-file format with no TensorFlow: a directory that holds these
 * files is what `tensorboard --logdir` reads.
 *
 * The format (TensorFlow's `tensorflow/core/util/event.proto` and `summary.proto`, and the TFRecord framing of
 * `tensorflow/core/lib/io/record_writer.cc`):
 *
 * - A file `events.out.tfevents.<unix seconds>.<hostname>` is a sequence of records. Each record is
 *   `uint64 length (LE) | uint32 masked CRC-32C of those 8 bytes (LE) | data | uint32 masked CRC-32C of data (LE)`,
 *   where CRC-32C is the Castagnoli CRC (reflected polynomial 0x82F63B78) and
 *   mask(crc) = ((crc >>> 15) | (crc << 17)) + 0xa282ead8 mod 2^32.
 * - Each record's data is a protobuf `Event`: 1 wall_time (double), 2 step (int64), 3 file_version (string; the
 *   first event of a file carries "brain.Event:2" and nothing else), 5 summary (`Summary`: repeated 1 value,
 *   `Value` { 1 tag (string), 2 simple_value (float) }).
 *
 * Only those fields are written; the reader decodes them and skips any other field by its wire type.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The file_version of the first event of every file. */
export const FILE_VERSION = 'brain.Event:2';

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli) of `bytes`. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC32C_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The masked CRC-32C that TFRecord framing stores. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

// ---- protobuf: the few encodings the Event message needs ----

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const key = (field: number, wire: number) => varint(BigInt((field << 3) | wire));

function varint(v: bigint): Buffer {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    const low = Number(u & 0x7fn);
    u >>= 7n;
    out.push(u > 0n ? low | 0x80 : low);
  } while (u > 0n);
  return Buffer.from(out);
}

function lengthDelimited(field: number, body: Buffer): Buffer {
  return Buffer.concat([key(field, WIRE_LEN), varint(BigInt(body.length)), body]);
}

function encodeValue(tag: string, value: number): Buffer {
  const f = Buffer.alloc(4);
  f.writeFloatLE(value);
  return Buffer.concat([lengthDelimited(1, Buffer.from(tag, 'utf8')), key(2, WIRE_FIXED32), f]);
}

/** One event: `fileVersion` (the first of a file) or `scalars` (tag → value, stored as float32). */
export interface EventFields {
  readonly wallTime: number;
  readonly step: number;
  readonly fileVersion?: string;
  readonly scalars?: Readonly<Record<string, number>>;
}

/** The protobuf bytes of an `Event`: wall_time, step, then file_version or a summary of simple values. */
export function encodeEvent(e: EventFields): Buffer {
  if (!Number.isSafeInteger(e.step)) throw new Error(`TensorBoard step ${e.step} is not an integer`);
  const wall = Buffer.alloc(8);
  wall.writeDoubleLE(e.wallTime);
  const parts = [key(1, WIRE_FIXED64), wall, key(2, WIRE_VARINT), varint(BigInt(e.step))];
  if (e.fileVersion !== undefined) parts.push(lengthDelimited(3, Buffer.from(e.fileVersion, 'utf8')));
  if (e.scalars !== undefined) {
    const values = Object.entries(e.scalars).map(([tag, v]) => lengthDelimited(1, encodeValue(tag, v)));
    parts.push(lengthDelimited(5, Buffer.concat(values)));
  }
  return Buffer.concat(parts);
}

/** One TFRecord: the data framed by its length and both masked CRCs. */
export function frameRecord(data: Uint8Array): Buffer {
  const head = Buffer.alloc(12);
  head.writeBigUInt64LE(BigInt(data.length), 0);
  head.writeUInt32LE(maskedCrc32c(head.subarray(0, 8)), 8);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([head, data, tail]);
}

/**
 * Appends scalars to a new events file in `dir` (created if missing). Each `add` is one event holding all the
 * scalars of that step. Records are appended without fsync: a crash may lose or tear the last ones.
 *
 * Every writer makes a new file (a name already taken gets a `.1`, `.2`, … suffix), so a resumed run writes a new
 * file beside the earlier ones and TensorBoard reads them all, in name (= time) order. Where the resumed run logs
 * a tag at a step the earlier segment had already reached, TensorBoard drops that tag's earlier points from that
 * step on: it shows the later points.
 */
export class ScalarEventWriter {
  private fd: number | undefined;

  private constructor(readonly file: string, fd: number) {
    this.fd = fd;
  }

  static open(dir: string, options: { readonly wallTimeS?: number; readonly host?: string } = {}): ScalarEventWriter {
    const wallTime = options.wallTimeS ?? Date.now() / 1000;
    const host = (options.host ?? hostname()).replace(/[/\\]/g, '_');
    mkdirSync(dir, { recursive: true });
    const base = join(dir, `events.out.tfevents.${Math.floor(wallTime)}.${host}`);
    for (let n = 0; ; n++) {
      const file = n === 0 ? base : `${base}.${n}`;
      let fd: number;
      try {
        fd = openSync(file, 'ax');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw e;
      }
      const writer = new ScalarEventWriter(file, fd);
      writer.write({ wallTime, step: 0, fileVersion: FILE_VERSION });
      return writer;
    }
  }

  /** One event at `step` with every numeric entry of `scalars` (other entries are skipped; none left: no event). */
  add(step: number, scalars: Readonly<Record<string, unknown>>, wallTimeS: number = Date.now() / 1000): void {
    const numeric = Object.fromEntries(Object.entries(scalars).filter((kv): kv is [string, number] => typeof kv[1] === 'number'));
    if (Object.keys(numeric).length === 0) return;
    this.write({ wallTime: wallTimeS, step, scalars: numeric });
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  private write(e: EventFields): void {
    if (this.fd === undefined) throw new Error(`${this.file}: the events writer is closed`);
    const record = frameRecord(encodeEvent(e));
    let done = 0;
    while (done < record.length) done += writeSync(this.fd, record, done, record.length - done);
  }
}

// ---- the reader (tests, tools) ----

/** A decoded event: the first of a file has `fileVersion` and no scalars. */
export interface ScalarEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Record<string, number>;
}

class ProtoReader {
  pos = 0;
  constructor(private readonly buf: Buffer, private readonly what: string) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error(`${this.what}: truncated protobuf at byte ${this.pos}`);
  }

  varint(): bigint {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (shift >= 70n) throw new Error(`${this.what}: varint longer than 10 bytes at byte ${this.pos}`);
      this.need(1);
      const b = this.buf[this.pos++];
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, v);
    }
  }

  fixed64(): Buffer {
    this.need(8);
    return this.buf.subarray(this.pos, (this.pos += 8));
  }

  fixed32(): Buffer {
    this.need(4);
    return this.buf.subarray(this.pos, (this.pos += 4));
  }

  bytes(): Buffer {
    const n = Number(this.varint());
    this.need(n);
    return this.buf.subarray(this.pos, (this.pos += n));
  }

  /** The next field's number and wire type. */
  key(): { field: number; wire: number } {
    const k = this.varint();
    return { field: Number(k >> 3n), wire: Number(k & 7n) };
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_FIXED64) this.fixed64();
    else if (wire === WIRE_LEN) this.bytes();
    else if (wire === WIRE_FIXED32) this.fixed32();
    else throw new Error(`${this.what}: unsupported wire type ${wire} at byte ${this.pos}`);
  }

  /** Reads every field: `on` returns false for a field it does not know, which is then skipped. */
  fields(on: (field: number, wire: number) => boolean): void {
    while (!this.done) {
      const { field, wire } = this.key();
      if (!on(field, wire)) this.skip(wire);
    }
  }
}

function expectWire(what: string, field: number, wire: number, expected: number): void {
  if (wire !== expected) throw new Error(`${what}: field ${field} has wire type ${wire}, expected ${expected}`);
}

function decodeValue(buf: Buffer, what: string): { tag?: string; value?: number } {
  const r = new ProtoReader(buf, what);
  const out: { tag?: string; value?: number } = {};
  r.fields((field, wire) => {
    if (field === 1) {
      expectWire(what, field, wire, WIRE_LEN);
      out.tag = r.bytes().toString('utf8');
    } else if (field === 2) {
      expectWire(what, field, wire, WIRE_FIXED32);
      out.value = r.fixed32().readFloatLE(0);
    } else return false;
    return true;
  });
  return out;
}

/** Decodes one `Event` (the protobuf bytes of a record). Values that are not simple scalars are skipped. */
export function decodeEvent(buf: Buffer, what = 'event'): ScalarEvent {
  const r = new ProtoReader(buf, what);
  const e: ScalarEvent = { wallTime: 0, step: 0, scalars: {} };
  r.fields((field, wire) => {
    if (field === 1) {
      expectWire(what, field, wire, WIRE_FIXED64);
      e.wallTime = r.fixed64().readDoubleLE(0);
    } else if (field === 2) {
      expectWire(what, field, wire, WIRE_VARINT);
      e.step = Number(BigInt.asIntN(64, r.varint()));
    } else if (field === 3) {
      expectWire(what, field, wire, WIRE_LEN);
      e.fileVersion = r.bytes().toString('utf8');
    } else if (field === 5) {
      expectWire(what, field, wire, WIRE_LEN);
      const summary = new ProtoReader(r.bytes(), `${what} summary`);
      summary.fields((f, w) => {
        if (f !== 1) return false;
        expectWire(`${what} summary`, f, w, WIRE_LEN);
        const v = decodeValue(summary.bytes(), `${what} summary value`);
        if (v.tag !== undefined && v.value !== undefined) e.scalars[v.tag] = v.value;
        return true;
      });
    } else return false;
    return true;
  });
  return e;
}

/** Every event of an events file, in order; checks both CRCs of every record and throws, naming it, on a mismatch. */
export function readScalarEvents(file: string): ScalarEvent[] {
  const buf = readFileSync(file);
  const events: ScalarEvent[] = [];
  let pos = 0;
  for (let n = 0; pos < buf.length; n++) {
    const where = `${file}: record ${n} at byte ${pos}`;
    if (pos + 12 > buf.length) throw new Error(`${where}: truncated header (${buf.length - pos} of 12 bytes)`);
    const lengthCrc = buf.readUInt32LE(pos + 8);
    if (maskedCrc32c(buf.subarray(pos, pos + 8)) !== lengthCrc) throw new Error(`${where}: length CRC-32C mismatch`);
    const length = buf.readBigUInt64LE(pos);
    if (length > BigInt(buf.length - pos - 16)) throw new Error(`${where}: truncated data (length ${length})`);
    const start = pos + 12;
    const end = start + Number(length);
    const data = buf.subarray(start, end);
    if (maskedCrc32c(data) !== buf.readUInt32LE(end)) throw new Error(`${where}: data CRC-32C mismatch`);
    events.push(decodeEvent(data, where));
    pos = end + 4;
  }
  return events;
}
