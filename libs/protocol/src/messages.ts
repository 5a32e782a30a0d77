/**
 * The message types of the nbm wire protocol, declared once. Adding a type is one entry in
 * {@link MESSAGES}: its fields (with types and ranges), which tensors it may carry, and an optional
 * cross-field check. The static types ({@link Message}, {@link MessageInput}) follow from the entry.
 */
import { array, data, int, number, oneOf, optional, string, type InferShape, type Shape } from './schema.ts';
import type { Tensor, TensorLike } from './tensor.ts';

/**
 * Version of the wire format. Peers must agree exactly: a header with another `v` is refused
 * with reason `wrong-version`. Bump it on any change to an existing type's fields or meaning.
 * 2: an exact all-reduce's chunks carry 48-bit fixed point packed into 6 bytes (`u8`), not float64.
 */
export const PROTOCOL_VERSION = 2;

/**
 * Which tensors a message type may carry: `'none'`, `'any'` (any names, e.g. actor call
 * arguments), or exactly the listed names.
 */
export type TensorPolicy = 'none' | 'any' | readonly string[];

/** Declaration of one message type. */
export interface MessageSpec<S extends Shape = Shape> {
  /** Type-specific header fields (the envelope fields `v`, `type`, `run`, `seq`, `step` are implicit). */
  readonly fields: S;
  /** Which tensors the message may carry. */
  readonly tensors: TensorPolicy;
  /** Cross-field rule on an otherwise valid message; returns a problem description or `undefined`. */
  readonly check?: (msg: InferShape<S>) => string | undefined;
  /** One line for documentation and error messages. */
  readonly doc: string;
}

/** Declares a message type, keeping the literal field shape for type inference. */
export function defineMessage<const S extends Shape>(spec: MessageSpec<S>): MessageSpec<S> {
  return spec;
}

const rank = () => int({ min: 0, max: 65_535 });
const callId = () => int({ min: 0 });
/** ZeroMQ endpoint as peers connect to it, e.g. `tcp://10.0.0.2:40123`. */
const endpoint = () => string({ min: 1, max: 512, pattern: /^[a-z]+:\/\/\S+$/ });

/** Every message type of the protocol. */
export const MESSAGES = {
  register: defineMessage({
    doc: 'worker → coordinator: a worker introduces itself and asks to join the run',
    fields: {
      host: string({ min: 1, max: 255 }),
      pid: int({ min: 1, max: 0x7fff_ffff }),
      device: string({ max: 255 }),
      backend: string({ min: 1, max: 64 }),
      configHash: string({ min: 1, max: 128 }),
      /** The protocol version the worker speaks (also checked in the envelope). */
      protocol: int({ min: 0 }),
      /** Where the worker's ring (data-plane) socket listens, for its left neighbour to connect to. */
      dataAddress: optional(endpoint()),
    },
    tensors: 'none',
  }),
  registered: defineMessage({
    doc: 'coordinator → worker: the register was accepted; the envelope run is the run the worker joined',
    fields: {
      /** The coordinator's name for this worker (stable while it stays connected). */
      id: string({ min: 1, max: 64 }),
      /** How often the coordinator expects a message from the worker, ms. */
      heartbeatMs: int({ min: 1, max: 0x7fff_ffff }),
      /** After this much silence, ms, the coordinator counts the worker as lost. */
      timeoutMs: int({ min: 1, max: 0x7fff_ffff }),
    },
    tensors: 'none',
  }),
  welcome: defineMessage({
    doc: 'coordinator → worker: accepted; your rank, the world size and every rank\'s data-plane address',
    fields: {
      rank: rank(),
      world: int({ min: 1, max: 65_535 }),
      /** Data-plane address of each rank, indexed by rank; rank r connects to peers[(r + 1) % world]. */
      peers: array(endpoint(), { min: 1, max: 65_535 }),
    },
    tensors: 'none',
    check: (m) =>
      m.rank >= m.world
        ? `rank ${m.rank} is not below world ${m.world}`
        : m.peers.length !== m.world
          ? `${m.peers.length} peers for world ${m.world}`
          : undefined,
  }),
  call: defineMessage({
    doc: 'coordinator → worker: invoke an actor method; answered by result or error with the same id',
    fields: {
      id: callId(),
      method: string({ min: 1, max: 128 }),
      args: optional(array(data(), { max: 256 })),
      timeoutMs: optional(int({ min: 0 })),
    },
    tensors: 'any',
  }),
  result: defineMessage({
    doc: 'worker → coordinator: the return value of call `id`',
    fields: { id: callId(), value: optional(data()) },
    tensors: 'any',
  }),
  error: defineMessage({
    doc: 'either way: call `id` failed, or (without id) the sender hit an error',
    fields: {
      id: optional(callId()),
      code: string({ min: 1, max: 64 }),
      message: string({ max: 65_536 }),
      stack: optional(string({ max: 65_536 })),
    },
    tensors: 'none',
  }),
  heartbeat: defineMessage({
    doc: 'either way: the sender is alive',
    fields: {
      /** Sender's wall clock, ms since the epoch. */
      sentAt: number({ min: 0 }),
      rank: optional(rank()),
      state: optional(string({ max: 64 })),
    },
    tensors: 'none',
  }),
  abort: defineMessage({
    doc: 'coordinator → workers: abandon the step in flight (the envelope step names it)',
    fields: { reason: string({ max: 4096 }), rank: optional(rank()) },
    tensors: 'none',
  }),
  shutdown: defineMessage({
    doc: 'coordinator → worker: exit cleanly',
    fields: { reason: optional(string({ max: 4096 })) },
    tensors: 'none',
  }),
  chunk: defineMessage({
    doc: 'rank → right neighbour: one chunk of a ring collective (data plane)',
    fields: {
      /** rs: reduce-scatter, ag: all-gather, bc: broadcast. */
      phase: oneOf(['rs', 'ag', 'bc'] as const),
      /** Step within the phase, 0 ≤ k < world − 1. */
      k: int({ min: 0, max: 65_535 }),
      seg: int({ min: 0, max: 65_535 }),
      chunk: int({ min: 0, max: 0x7fff_ffff }),
      from: rank(),
      world: int({ min: 1, max: 65_535 }),
      op: oneOf(['sum', 'max', 'copy'] as const),
      /** Total element count of the buffer being reduced or broadcast. */
      n: int({ min: 0 }),
    },
    tensors: ['data'],
    check: (m) =>
      m.from >= m.world ? `from ${m.from} is not below world ${m.world}` : m.seg >= m.world ? `seg ${m.seg} is not below world ${m.world}` : undefined,
  }),
} as const;

/** Name of a message type. */
export type MessageType = keyof typeof MESSAGES;

/** Fields common to every message. */
export interface Envelope {
  /** Run id: a message for another run is refused by whoever checks it. */
  run: string;
  /** Sender's message sequence number, when the receiver tracks ordering. */
  seq?: number;
  /** Training step the message belongs to. */
  step?: number;
}

type FieldsOf<K extends MessageType> = InferShape<(typeof MESSAGES)[K]['fields']>;

/** A decoded message of type `K`: envelope, type-specific fields and its tensors by name. */
export type Message<K extends MessageType = MessageType> = K extends MessageType
  ? { v: number; type: K } & Envelope & FieldsOf<K> & { tensors: Record<string, Tensor> }
  : never;

/** A message to encode: as {@link Message}, without `v` (added by encode), tensors optional. */
export type MessageInput<K extends MessageType = MessageType> = K extends MessageType
  ? { type: K } & Envelope & FieldsOf<K> & { tensors?: Record<string, TensorLike> }
  : never;

/** Envelope field names; a message type may not redefine them. */
export const ENVELOPE_FIELDS = ['v', 'type', 'run', 'seq', 'step', 'tensors'] as const;

for (const [type, spec] of Object.entries(MESSAGES)) {
  for (const name of ENVELOPE_FIELDS) {
    if (Object.prototype.hasOwnProperty.call(spec.fields, name)) {
      throw new Error(`@nbm/protocol: message type '${type}' redefines envelope field '${name}'`);
    }
  }
}

/** True when `type` names a registered message type. */
export function isMessageType(type: unknown): type is MessageType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(MESSAGES, type);
}
