import { expect } from 'chai';
import { Packr } from 'msgpackr';
import { PROTOCOL_VERSION, decode, encode, maxMessageBytes, type MessageInput, type ProtocolErrorReason } from '../src/index.ts';
import { DEFAULT_MAX_HEADER_BYTES } from '../src/limits.ts';
import { expectType } from '../src/codec.ts';
import { refusal } from './helpers.ts';

const expectReason = (fn: () => unknown, reason: ProtocolErrorReason, text?: RegExp) => {
  const err = refusal(fn);
  expect(err.reason, err.message).to.equal(reason);
  if (text) expect(err.message).to.match(text);
};

/** A header frame packed by hand, to build what encode would refuse to produce. */
const rich = new Packr({ moreTypes: true });
const rawHeader = (header: unknown) => rich.pack(header);

const valid: MessageInput[] = [
  { type: 'register', run: 'run-1', host: 'gpu-7', pid: 4242, device: 'cuda:0', backend: 'tensorflow', configHash: 'ab12', protocol: 1 },
  { type: 'register', run: 'run-1', seq: 0, host: 'h', pid: 1, device: '', backend: 'cpu', configHash: 'x', protocol: 1, dataAddress: 'tcp://127.0.0.1:4000' },
  { type: 'welcome', run: 'run-1', rank: 2, world: 3, peers: ['tcp://a:1', 'tcp://b:2', 'tcp://c:3'] },
  { type: 'call', run: 'r', seq: 5, step: 10, id: 7, method: 'trainStep', args: [1, 'two', { three: [3, null, true] }], timeoutMs: 5000 },
  { type: 'call', run: 'r', id: 8, method: 'getState' },
  { type: 'result', run: 'r', id: 7, value: { loss: 0.25, ok: true } },
  { type: 'result', run: 'r', id: 9 },
  { type: 'error', run: 'r', id: 7, code: 'E_NAN', message: 'gradient is NaN at step 10', stack: 'at x' },
  { type: 'error', run: 'r', code: 'E_CONFIG', message: 'config mismatch' },
  { type: 'heartbeat', run: 'r', sentAt: 1_764_000_000_000.5, rank: 1, state: 'training' },
  { type: 'abort', run: 'r', step: 12, reason: 'worker 2 missed heartbeats', rank: 2 },
  { type: 'shutdown', run: 'r' },
  { type: 'shutdown', run: 'r', reason: 'done' },
];

describe('protocol codec: valid messages', () => {
  for (const msg of valid) {
    it(`round-trips ${msg.type} ${JSON.stringify(msg).slice(0, 60)}`, () => {
      const frames = encode(msg);
      expect(frames).to.have.length(1);
      const back = decode(frames);
      expect(back).to.deep.equal({ ...msg, v: PROTOCOL_VERSION, tensors: {} });
    });
  }

  it('carries tensors of every dtype, any shape, as extra frames', () => {
    const w = new Float32Array([1.5, -2.25, 3e-39, Number.MAX_VALUE]); // f32 rounding applies on construction
    const d = new Float64Array([Math.PI, -0.1, 1e300, 5e-324, NaN, Infinity]);
    const u = new Uint32Array([0, 1, 0xffffffff, 123456789, 5, 6]);
    const b = new Uint8Array([0, 255, 7]);
    const empty = new Float32Array(0);
    const frames = encode({
      type: 'call', run: 'r', id: 1, method: 'setState',
      tensors: { w, d: { dtype: 'f64', shape: [2, 3], data: d }, u: { dtype: 'u32', shape: [3, 1, 2], data: u }, b, empty },
    });
    expect(frames).to.have.length(6);
    const msg = expectType(decode(frames), 'call');
    expect(Object.keys(msg.tensors)).to.deep.equal(['w', 'd', 'u', 'b', 'empty']);
    expect(msg.tensors.w).to.deep.include({ dtype: 'f32', shape: [4] });
    expect(Array.from(msg.tensors.w.data)).to.deep.equal(Array.from(w));
    expect(msg.tensors.d.shape).to.deep.equal([2, 3]);
    expect(Buffer.from(msg.tensors.d.data.buffer, msg.tensors.d.data.byteOffset, 48).equals(Buffer.from(d.buffer))).to.equal(true);
    expect(msg.tensors.u).to.deep.include({ dtype: 'u32', shape: [3, 1, 2] });
    expect(Array.from(msg.tensors.u.data)).to.deep.equal(Array.from(u));
    expect(msg.tensors.b.data).to.be.instanceOf(Uint8Array);
    expect(Array.from(msg.tensors.b.data)).to.deep.equal([0, 255, 7]);
    expect(msg.tensors.empty.data.length).to.equal(0);
  });

  it('shares an aligned frame\'s memory and copies an unaligned one', () => {
    const [head, frame] = encode({ type: 'result', run: 'r', id: 1, tensors: { x: new Float64Array([1, 2, 3]) } });
    const aligned = Buffer.alloc(24 + 8).subarray(8);
    frame.copy(aligned);
    const a = decode([head, aligned]).tensors.x;
    expect(a.data.buffer).to.equal(aligned.buffer);
    const unaligned = Buffer.alloc(24 + 3).subarray(3);
    frame.copy(unaligned);
    const u = decode([head, unaligned]).tensors.x;
    expect(u.data.buffer).to.not.equal(unaligned.buffer);
    expect(u.data.byteOffset % 8).to.equal(0);
    expect(Array.from(u.data)).to.deep.equal([1, 2, 3]);
  });

  it('encodes tensor frames without copying the data', () => {
    const x = new Float32Array(1000);
    const frames = encode({ type: 'result', run: 'r', id: 1, tensors: { x } });
    expect(frames[1].buffer).to.equal(x.buffer);
  });
});

describe('protocol codec: refusals', () => {
  const good = () => encode(valid[0]);

  it('refuses a header that is not MessagePack', () => {
    expectReason(() => decode([Buffer.from([0x82, 0xa1])]), 'bad-msgpack');
    expectReason(() => decode([Buffer.alloc(0)]), 'bad-msgpack');
    // two values where one is expected
    expectReason(() => decode([Buffer.concat([good()[0], Buffer.from([0x01])])]), 'bad-msgpack');
  });

  it('refuses a header that is not a map', () => {
    expectReason(() => decode([rawHeader([1, 2])]), 'schema', /array/);
    expectReason(() => decode([rawHeader('hello')]), 'schema');
  });

  it('refuses another protocol version, or none', () => {
    expectReason(() => decode([rawHeader({ v: PROTOCOL_VERSION + 1, type: 'shutdown', run: 'r' })]), 'wrong-version', new RegExp(`version ${PROTOCOL_VERSION + 1}, expected ${PROTOCOL_VERSION}`));
    expectReason(() => decode([rawHeader({ type: 'shutdown', run: 'r' })]), 'wrong-version', /none/);
    expectReason(() => decode([rawHeader({ v: '1', type: 'shutdown', run: 'r' })]), 'wrong-version');
  });

  it('refuses an unknown type, naming it', () => {
    expectReason(() => decode([rawHeader({ v: PROTOCOL_VERSION, type: 'launch-missiles', run: 'r' })]), 'unknown-type', /launch-missiles/);
    expectReason(() => decode([rawHeader({ v: PROTOCOL_VERSION, type: 'toString', run: 'r' })]), 'unknown-type');
    expectReason(() => decode([rawHeader({ v: PROTOCOL_VERSION, run: 'r' })]), 'unknown-type');
  });

  const schemaCases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a missing run id', { v: PROTOCOL_VERSION, type: 'shutdown' }, /missing field 'run'/],
    ['an empty run id', { v: PROTOCOL_VERSION, type: 'shutdown', run: '' }, /run: string shorter/],
    ['a negative step', { v: PROTOCOL_VERSION, type: 'shutdown', run: 'r', step: -1 }, /step: -1 is outside/],
    ['a fractional seq', { v: PROTOCOL_VERSION, type: 'shutdown', run: 'r', seq: 1.5 }, /seq: expected an integer/],
    ['a missing field', { v: PROTOCOL_VERSION, type: 'welcome', run: 'r', rank: 0, world: 1 }, /missing field 'peers'/],
    ['a wrong field type', { v: PROTOCOL_VERSION, type: 'register', run: 'r', host: 7, pid: 1, device: '', backend: 'cpu', configHash: 'x', protocol: 1 }, /register.host: expected a string, got number/],
    ['an out-of-range pid', { v: PROTOCOL_VERSION, type: 'register', run: 'r', host: 'h', pid: 0, device: '', backend: 'cpu', configHash: 'x', protocol: 1 }, /pid: 0 is outside/],
    ['an unexpected field', { v: PROTOCOL_VERSION, type: 'shutdown', run: 'r', launch: true }, /unexpected field 'launch'/],
    ['inconsistent fields', { v: PROTOCOL_VERSION, type: 'welcome', run: 'r', rank: 0, world: 2, peers: ['tcp://a:1'] }, /1 peers for world 2/],
    ['a bad peer address', { v: PROTOCOL_VERSION, type: 'welcome', run: 'r', rank: 0, world: 1, peers: ['nowhere'] }, /peers\[0\]/],
    ['a non-finite heartbeat time', { v: PROTOCOL_VERSION, type: 'heartbeat', run: 'r', sentAt: Infinity }, /finite/],
    ['a typed array where data is expected', { v: PROTOCOL_VERSION, type: 'result', run: 'r', id: 1, value: new Float32Array(2) }, /Float32Array is not plain data/],
    ['a Set where data is expected', { v: PROTOCOL_VERSION, type: 'result', run: 'r', id: 1, value: new Set([1]) }, /Set is not plain data/],
    ['an Error inside call arguments', { v: PROTOCOL_VERSION, type: 'call', run: 'r', id: 1, method: 'm', args: [new Error('x')] }, /args\[0\]: Error is not plain data/],
    ['a RegExp inside data', { v: PROTOCOL_VERSION, type: 'result', run: 'r', id: 1, value: { a: [/x/] } }, /value.a\[0\]: RegExp/],
    ['a Date where data is expected', { v: PROTOCOL_VERSION, type: 'result', run: 'r', id: 1, value: new Date(0) }, /Date is not plain data/],
    ['tensors on a type that takes none', { v: PROTOCOL_VERSION, type: 'shutdown', run: 'r', tensors: { x: { frame: 1, dtype: 'u8', shape: [1] } } }, /takes none/],
    ['a chunk without its data tensor', { v: PROTOCOL_VERSION, type: 'chunk', run: 'r', phase: 'rs', k: 0, seg: 0, chunk: 0, from: 0, world: 2, op: 'sum', n: 4 }, /expected exactly \[data\]/],
    ['an unknown dtype', { v: PROTOCOL_VERSION, type: 'result', run: 'r', id: 1, tensors: { x: { frame: 1, dtype: 'f16', shape: [1] } } }, /dtype/],
    ['a tensor rank over the limit', { v: PROTOCOL_VERSION, type: 'result', run: 'r', id: 1, tensors: { x: { frame: 1, dtype: 'u8', shape: [1, 1, 1, 1, 1, 1, 1, 1, 1] } } }, /more than 8 items/],
  ];
  for (const [what, header, text] of schemaCases) {
    it(`refuses ${what}`, () => expectReason(() => decode([rawHeader(header), Buffer.alloc(1)].slice(0, header.tensors ? 2 : 1)), 'schema', text));
  }

  it('refuses tensor frames that do not match their references', () => {
    const [head, frame] = encode({ type: 'result', run: 'r', id: 1, tensors: { x: new Float32Array(4) } });
    expectReason(() => decode([head]), 'frame-mismatch', /frame 1 of 1/);
    expectReason(() => decode([head, frame, frame]), 'frame-mismatch', /2 tensor frames but 1/);
    expectReason(() => decode([head, frame.subarray(0, 15)]), 'frame-mismatch', /needs 16 bytes, frame 1 has 15/);
    const shared = rawHeader({ v: PROTOCOL_VERSION, type: 'result', run: 'r', id: 1, tensors: { a: { frame: 1, dtype: 'u8', shape: [1] }, b: { frame: 1, dtype: 'u8', shape: [1] } } });
    expectReason(() => decode([shared, Buffer.alloc(1), Buffer.alloc(1)]), 'frame-mismatch', /more than one tensor/);
    expectReason(() => decode([]), 'frame-mismatch');
    expectReason(() => decode([head, 'text' as unknown as Uint8Array]), 'frame-mismatch', /not bytes/);
  });

  it('refuses huge declared shapes as oversized, without allocating', () => {
    const header = rawHeader({ v: PROTOCOL_VERSION, type: 'result', run: 'r', id: 1, tensors: { x: { frame: 1, dtype: 'f64', shape: [0xffffffff, 0xffffffff, 0xffffffff] } } });
    expectReason(() => decode([header, Buffer.alloc(8)]), 'oversized', /shape/);
    const justOver = rawHeader({ v: PROTOCOL_VERSION, type: 'result', run: 'r', id: 1, tensors: { x: { frame: 1, dtype: 'f32', shape: [257] } } });
    expectReason(() => decode([justOver, Buffer.alloc(4)], { maxMessageBytes: 1024 }), 'oversized');
  });

  it('refuses messages, headers and frame counts over the limits', () => {
    const frames = encode({ type: 'result', run: 'r', id: 1, tensors: { x: new Uint8Array(2000) } });
    expectReason(() => decode(frames, { maxMessageBytes: 1000 }), 'oversized', /exceeds the limit of 1000/);
    expect(() => decode(frames, { maxMessageBytes: 2100 })).to.not.throw();
    const big = encode({ type: 'error', run: 'r', code: 'E', message: 'x'.repeat(60_000), stack: 'y'.repeat(60_000) });
    expectReason(() => decode(big, { maxHeaderBytes: 100_000 }), 'oversized', /header of/);
    const many = encode({ type: 'result', run: 'r', id: 1, tensors: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`t${i}`, new Uint8Array(1)])) });
    expectReason(() => decode(many, { maxFrames: 5 }), 'oversized', /11 frames/);
  });

  it('refuses to encode an invalid message (the sender\'s bug, caught before the wire)', () => {
    expectReason(() => encode({ type: 'welcome', run: 'r', rank: 3, world: 2, peers: ['tcp://a:1', 'tcp://b:1'] }), 'schema', /rank 3 is not below world 2/);
    expectReason(() => encode({ type: 'nope', run: 'r' } as unknown as MessageInput), 'unknown-type');
    expectReason(() => encode({ type: 'result', run: 'r', id: 1, tensors: { x: { dtype: 'f32', shape: [3], data: new Float32Array(4) } } }), 'schema', /shape \[3\] does not match 4/);
    expectReason(() => encode({ type: 'result', run: 'r', id: 1, tensors: { x: new Int16Array(2) as unknown as Float32Array } }), 'schema', /Int16Array/);
    expectReason(() => encode({ type: 'result', run: 'r', id: 1, value: JSON.parse('{"__proto__": 1}') }), 'schema', /__proto__/);
    expectReason(() => encode({ type: 'result', run: 'r', id: 1, tensors: { x: null as unknown as Float32Array } }), 'schema', /tensor 'x'/);
    expectReason(() => encode({ type: 'result', run: 'r', id: 1, tensors: { '9bad': new Uint8Array(1) } }), 'schema', /9bad/);
  });
});

describe('maxMessageBytes', () => {
  it('is the payload plus header room', () => {
    expect(maxMessageBytes(604_384 * 4)).to.equal(604_384 * 4 + DEFAULT_MAX_HEADER_BYTES);
    expect(maxMessageBytes(100, 10)).to.equal(110);
  });
  it('refuses negative, fractional and over-2-GiB sizes', () => {
    expect(() => maxMessageBytes(-1)).to.throw(RangeError, /payloadBytes/);
    expect(() => maxMessageBytes(1.5)).to.throw(RangeError);
    expect(() => maxMessageBytes(2 ** 31)).to.throw(RangeError, /2 GiB/);
  });
});
