import { expect } from 'chai';
import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { PROTOCOL_VERSION, ProtocolError, decode, encode, type DType, type MessageInput, type MessageType, type Tensor } from '../src/index.ts';
import { MESSAGES } from '../src/messages.ts';
import { bytesPerElement } from '../src/tensor.ts';
import { type PlainData } from '../src/schema.ts';
import { refusal } from './helpers.ts';

const packr = new Packr({ useRecords: false, moreTypes: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const RUNS = { numRuns: 300 };

// ---------------------------------------------------------------- arbitraries of valid messages

const str = (minLength: number, maxLength: number) => fc.string({ minLength, maxLength });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const address = fc
  .tuple(fc.constantFrom('tcp', 'ipc', 'inproc'), fc.stringMatching(/^[\w.:[\]-]{1,30}$/))
  .map(([scheme, rest]) => `${scheme}://${rest}`);
const noNegZero = (x: number) => (Object.is(x, -0) ? 0 : x);

/** Plain MessagePack data as `data()` accepts it (−0 excluded: MessagePack carries it as 0). */
const plain = fc.letrec<{ value: PlainData }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double().map(noNegZero),
    fc.integer(),
    fc.maxSafeInteger().map(noNegZero),
    str(0, 20),
    fc.uint8Array({ maxLength: 16 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(str(0, 10).filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const dtypeArb = fc.constantFrom<DType>('f32', 'f64', 'u32', 'u8');
const tensorArb: fc.Arbitrary<Tensor> = fc
  .tuple(dtypeArb, fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }))
  .chain(([dtype, shape]) => {
    const count = shape.reduce((a, b) => a * b, 1);
    return fc.uint8Array({ minLength: count * bytesPerElement(dtype), maxLength: count * bytesPerElement(dtype) }).map((bytes) => {
      const buf = new ArrayBuffer(bytes.length);
      new Uint8Array(buf).set(bytes);
      const data = { f32: Float32Array, f64: Float64Array, u32: Uint32Array, u8: Uint8Array }[dtype];
      return { dtype, shape, data: new data(buf) } as Tensor;
    });
  });
const tensorsArb = fc.dictionary(fc.stringMatching(/^[A-Za-z][\w.:/-]{0,20}$/), tensorArb, { minKeys: 1, maxKeys: 4 });

const envelope = {
  run: str(1, 128),
  seq: opt(fc.nat()),
  step: opt(fc.maxSafeNat()),
};

const byType: { [K in MessageType]: fc.Arbitrary<MessageInput<K>> } = {
  register: fc.record(
    {
      type: fc.constant('register' as const), ...envelope,
      host: str(1, 255), pid: fc.integer({ min: 1, max: 0x7fffffff }), device: str(0, 255), backend: str(1, 64),
      configHash: str(1, 128), protocol: fc.nat(), dataAddress: opt(address),
    },
    { requiredKeys: ['type', 'run', 'host', 'pid', 'device', 'backend', 'configHash', 'protocol'] },
  ),
  registered: fc.record(
    {
      type: fc.constant('registered' as const), ...envelope,
      id: str(1, 64), heartbeatMs: fc.integer({ min: 1, max: 0x7fffffff }), timeoutMs: fc.integer({ min: 1, max: 0x7fffffff }),
    },
    { requiredKeys: ['type', 'run', 'id', 'heartbeatMs', 'timeoutMs'] },
  ),
  welcome: fc.integer({ min: 1, max: 8 }).chain((world) =>
    fc.record(
      {
        type: fc.constant('welcome' as const), ...envelope,
        rank: fc.integer({ min: 0, max: world - 1 }), world: fc.constant(world),
        peers: fc.array(address, { minLength: world, maxLength: world }),
      },
      { requiredKeys: ['type', 'run', 'rank', 'world', 'peers'] },
    ),
  ),
  call: fc.record(
    {
      type: fc.constant('call' as const), ...envelope,
      id: fc.nat(), method: str(1, 128), args: opt(fc.array(plain, { maxLength: 4 })), timeoutMs: opt(fc.nat()),
      tensors: opt(tensorsArb),
    },
    { requiredKeys: ['type', 'run', 'id', 'method'] },
  ),
  result: fc.record(
    { type: fc.constant('result' as const), ...envelope, id: fc.nat(), value: opt(plain), tensors: opt(tensorsArb) },
    { requiredKeys: ['type', 'run', 'id'] },
  ),
  error: fc.record(
    { type: fc.constant('error' as const), ...envelope, id: opt(fc.nat()), code: str(1, 64), message: str(0, 200), stack: opt(str(0, 200)) },
    { requiredKeys: ['type', 'run', 'code', 'message'] },
  ),
  heartbeat: fc.record(
    {
      type: fc.constant('heartbeat' as const), ...envelope,
      sentAt: fc.double({ min: 0, max: 1e15, noNaN: true }).map(noNegZero), rank: opt(fc.integer({ min: 0, max: 65535 })), state: opt(str(0, 64)),
    },
    { requiredKeys: ['type', 'run', 'sentAt'] },
  ),
  abort: fc.record(
    { type: fc.constant('abort' as const), ...envelope, reason: str(0, 200), rank: opt(fc.integer({ min: 0, max: 65535 })) },
    { requiredKeys: ['type', 'run', 'reason'] },
  ),
  shutdown: fc.record({ type: fc.constant('shutdown' as const), ...envelope, reason: opt(str(0, 200)) }, { requiredKeys: ['type', 'run'] }),
  chunk: fc.integer({ min: 1, max: 16 }).chain((world) =>
    fc.record({
      type: fc.constant('chunk' as const), ...envelope,
      phase: fc.constantFrom('rs' as const, 'ag' as const, 'bc' as const), k: fc.integer({ min: 0, max: 65535 }),
      seg: fc.integer({ min: 0, max: world - 1 }), chunk: fc.nat(), from: fc.integer({ min: 0, max: world - 1 }),
      world: fc.constant(world), op: fc.constantFrom('sum' as const, 'max' as const, 'copy' as const), n: fc.maxSafeNat(),
      tensors: tensorArb.map((data) => ({ data })),
    }).map((m) => {
      // fc.record with all keys required still sets optional envelope keys to undefined; drop them
      for (const k of ['seq', 'step'] as const) if (m[k] === undefined) delete m[k];
      return m;
    }),
  ),
};

const anyValid: fc.Arbitrary<MessageInput> = fc.oneof(...(Object.values(byType) as fc.Arbitrary<MessageInput>[]));
const withTensors = fc.oneof(
  byType.call.filter((m) => m.tensors !== undefined),
  byType.result.filter((m) => m.tensors !== undefined),
  byType.chunk,
) as fc.Arbitrary<MessageInput>;

/** Comparable form: byte strings and typed arrays as hex, objects rebuilt plain. */
function normalise(x: unknown): unknown {
  if (ArrayBuffer.isView(x)) return `bytes:${Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex')}:${x.constructor === Buffer ? 'Uint8Array' : x.constructor.name}`;
  if (Array.isArray(x)) return x.map(normalise);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, normalise(v)]));
  return x;
}

function expected(msg: MessageInput): unknown {
  const tensors: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(msg.tensors ?? {})) {
    const tensor = ArrayBuffer.isView(t) ? { shape: [t.length], data: t } : t;
    tensors[name] = { dtype: (tensor as Tensor).dtype ?? undefined, shape: tensor.shape, data: tensor.data };
  }
  const out: Record<string, unknown> = { ...msg, v: PROTOCOL_VERSION, tensors };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return normalise(out);
}

// ---------------------------------------------------------------- properties

describe('protocol codec: property-based', () => {
  it('round-trips every valid message exactly, tensors included', () => {
    fc.assert(
      fc.property(anyValid, (msg) => {
        expect(normalise(decode(encode(msg)))).to.deep.equal(expected(msg));
      }),
      RUNS,
    );
  });

  it('covers every registered message type', () => {
    expect(Object.keys(byType).sort()).to.deep.equal(Object.keys(MESSAGES).sort());
  });

  it('refuses random frames with a ProtocolError, never another exception', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }), (frames) => {
        refusal(() => decode(frames.map((f) => Buffer.from(f))));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses arbitrary MessagePack values as headers', () => {
    fc.assert(
      fc.property(fc.anything({ withBoxedValues: false }), fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 2 }), (header, rest) => {
        let head: Buffer;
        try {
          head = packr.pack(header);
        } catch {
          return; // not packable: nothing to send
        }
        refusal(() => decode([head, ...rest.map((f) => Buffer.from(f))]));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses random fields under a valid version and type, never throwing anything else', () => {
    const types = Object.keys(MESSAGES) as MessageType[];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.dictionary(str(1, 12), fc.anything(), { maxKeys: 6 }), (type, fields) => {
        const head = packr.pack({ ...fields, v: PROTOCOL_VERSION, type });
        try {
          decode([head]);
        } catch (err) {
          expect(err).to.be.instanceOf(ProtocolError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses truncated headers as bad MessagePack', () => {
    fc.assert(
      fc.property(anyValid.chain((m) => {
        const frames = encode(m);
        return fc.tuple(fc.constant(frames), fc.integer({ min: 0, max: frames[0].length - 1 }));
      }), ([frames, cut]) => {
        const err = refusal(() => decode([frames[0].subarray(0, cut), ...frames.slice(1)]));
        expect(err.reason).to.equal('bad-msgpack');
      }),
      RUNS,
    );
  });

  it('either accepts or refuses with a ProtocolError when header bytes are corrupted', () => {
    fc.assert(
      fc.property(anyValid.chain((m) => {
        const frames = encode(m);
        return fc.tuple(fc.constant(frames), fc.array(fc.tuple(fc.nat(frames[0].length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }));
      }), ([frames, edits]) => {
        const head = Buffer.from(frames[0]);
        for (const [at, byte] of edits) head[at] = byte;
        try {
          const msg = decode([head, ...frames.slice(1)]);
          expect(msg.v).to.equal(PROTOCOL_VERSION);
          expect(MESSAGES).to.have.property(msg.type);
        } catch (err) {
          expect(err).to.be.instanceOf(ProtocolError);
        }
      }),
      RUNS,
    );
  });

  it('refuses any other protocol version', () => {
    fc.assert(
      fc.property(anyValid, fc.anything({ withBoxedValues: false }).filter((v) => v !== PROTOCOL_VERSION), (msg, v) => {
        const frames = encode(msg);
        const header = { ...(unpackr.unpack(frames[0]) as object), v };
        let head: Buffer;
        try {
          head = packr.pack(header);
        } catch {
          return;
        }
        expect(refusal(() => decode([head, ...frames.slice(1)])).reason).to.equal('wrong-version');
      }),
      RUNS,
    );
  });

  it('refuses a field replaced by a value of another type', () => {
    fc.assert(
      fc.property(
        anyValid.chain((m) => {
          const keys = Object.keys(m).filter((k) => !['type', 'tensors', 'args', 'value'].includes(k) && (m as unknown as Record<string, unknown>)[k] !== undefined);
          return fc.tuple(fc.constant(m), fc.constantFrom(...keys));
        }),
        fc.anything({ withBoxedValues: false }),
        ([msg, key], replacement) => {
          const original = (msg as unknown as Record<string, unknown>)[key];
          fc.pre(replacement !== undefined && typeof replacement !== typeof original);
          fc.pre(!(Array.isArray(replacement) && Array.isArray(original)));
          const frames = encode(msg);
          const header = { ...(unpackr.unpack(frames[0]) as object), [key]: replacement };
          const err = refusal(() => decode([packr.pack(header), ...frames.slice(1)]));
          expect(err.reason, err.message).to.equal('schema');
        },
      ),
      RUNS,
    );
  });

  it('refuses a missing or an extra tensor frame as a frame mismatch', () => {
    fc.assert(
      fc.property(
        withTensors.chain((m) => {
          const frames = encode(m);
          return fc.tuple(
            fc.constant(frames),
            fc.boolean(),
            fc.integer({ min: 1, max: frames.length }),
            fc.uint8Array({ maxLength: 64 }),
          );
        }),
        ([frames, drop, at, extra]) => {
          const changed = [...frames];
          if (drop) changed.splice(Math.min(at, frames.length - 1), 1);
          else changed.splice(at, 0, Buffer.from(extra));
          expect(refusal(() => decode(changed)).reason).to.equal('frame-mismatch');
        },
      ),
      RUNS,
    );
  });

  it('refuses huge declared shapes as oversized', () => {
    const limit = 1 << 20;
    fc.assert(
      fc.property(
        dtypeArb,
        fc.array(fc.integer({ min: 1, max: 0xffffffff }), { minLength: 1, maxLength: 8 }),
        fc.uint8Array({ maxLength: 64 }),
        (dtype, shape, bytes) => {
          fc.pre(shape.reduce((a, b) => a * b, 1) * bytesPerElement(dtype) > limit);
          const head = packr.pack({ v: PROTOCOL_VERSION, type: 'result', run: 'r', id: 0, tensors: { x: { frame: 1, dtype, shape } } });
          expect(refusal(() => decode([head, Buffer.from(bytes)], { maxMessageBytes: limit })).reason).to.equal('oversized');
        },
      ),
      RUNS,
    );
  });
});
