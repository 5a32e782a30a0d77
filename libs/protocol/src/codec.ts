/**
 * The envelope codec: a message is a multipart ZeroMQ message
 * `[header, tensor frame 1, tensor frame 2, …]` whose header is one MessagePack map
 * `{v, type, run, seq?, step?, tensors?: {name: {frame, dtype, shape}}, …fields}` and whose other
 * frames are raw little-endian tensor bytes, each referenced exactly once.
 *
 * {@link decode} never throws anything but a {@link ProtocolError}; {@link encode} validates the
 * outgoing message against the same schema, so a peer never receives what it would refuse.
 */
import { Packr, Unpackr } from 'msgpackr';
import { ProtocolError } from './errors.ts';
import {
  ENVELOPE_FIELDS,
  MESSAGES,
  PROTOCOL_VERSION,
  isMessageType,
  type Message,
  type MessageInput,
  type MessageSpec,
  type MessageType,
} from './messages.ts';
import { DEFAULT_MAX_FRAMES, DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_MESSAGE_BYTES, type DecodeLimits } from './limits.ts';
import { int, isPlainObject, optional, record, string, typeName, validateShape, type Shape } from './schema.ts';
import {
  bytesPerElement,
  elementCount,
  tensorFrame,
  tensorRefField,
  toTensor,
  viewFrame,
  type Tensor,
  type TensorRef,
} from './tensor.ts';

/** Most tensors one message may carry. */
export const MAX_TENSORS = 256;

const envelopeShape = {
  run: string({ min: 1, max: 128 }),
  seq: optional(int({ min: 0 })),
  step: optional(int({ min: 0 })),
  tensors: optional(record(tensorRefField, { maxKeys: MAX_TENSORS, key: /^[A-Za-z][\w.:/-]{0,127}$/ })),
} satisfies Shape;

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

const ENVELOPE = new Set<string>(ENVELOPE_FIELDS);

/** Splits a header into envelope and type-specific fields and validates both; throws `schema`. */
function validateHeader(type: MessageType, header: Record<string, unknown>): void {
  const spec = MESSAGES[type] as unknown as MessageSpec;
  const envelope: Record<string, unknown> = {};
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(header)) {
    if (key === 'v' || key === 'type') continue;
    (ENVELOPE.has(key) ? envelope : fields)[key] = header[key];
  }
  const problem =
    validateShape(envelopeShape, envelope, type) ??
    validateShape(spec.fields, fields, type) ??
    spec.check?.(fields as never) ??
    checkTensorPolicy(spec, header.tensors as Record<string, TensorRef> | undefined);
  if (problem) throw new ProtocolError('schema', problem.startsWith(type) ? problem : `${type}: ${problem}`);
}

function checkTensorPolicy(spec: MessageSpec, refs: Record<string, TensorRef> | undefined): string | undefined {
  const names = refs ? Object.keys(refs) : [];
  if (spec.tensors === 'any') return undefined;
  if (spec.tensors === 'none') return names.length ? `carries tensors (${names.join(', ')}) but takes none` : undefined;
  const want = spec.tensors;
  if (names.length !== want.length || !want.every((n) => names.includes(n))) {
    return `carries tensors [${names.join(', ')}], expected exactly [${want.join(', ')}]`;
  }
  return undefined;
}

/**
 * Encodes a message into frames ready for `socket.send(frames)`: the header, then one frame per
 * tensor in the order of `msg.tensors`. Tensor frames share the typed arrays' memory (no copy):
 * ZeroMQ sends large frames without copying, so **do not modify a tensor until the peer has it**.
 *
 * @throws ProtocolError `unknown-type` or `schema` when the message is not valid (a bug in the sender).
 */
export function encode<K extends MessageType>(msg: MessageInput<K>): Buffer[] {
  const input = msg as unknown as Record<string, unknown>;
  if (!isMessageType(input.type)) throw new ProtocolError('unknown-type', `cannot encode type ${JSON.stringify(input.type)}`);
  const type = input.type;
  const header: Record<string, unknown> = { v: PROTOCOL_VERSION, type };
  for (const key of Object.keys(input)) {
    if (key === 'v' || key === 'type' || key === 'tensors' || input[key] === undefined) continue;
    header[key] = input[key];
  }
  const frames: Buffer[] = [];
  const tensors = input.tensors as Record<string, unknown> | undefined;
  if (tensors !== undefined) {
    if (!isPlainObject(tensors)) throw new ProtocolError('schema', `${type}.tensors: expected an object, got ${typeName(tensors)}`);
    const refs: Record<string, TensorRef> = {};
    for (const name of Object.keys(tensors)) {
      const t = toTensor(name, tensors[name] as Tensor);
      refs[name] = { frame: frames.length + 1, dtype: t.dtype, shape: t.shape };
      frames.push(tensorFrame(t.data));
    }
    if (frames.length > 0) header.tensors = refs;
  }
  validateHeader(type, header);
  let head: Buffer;
  try {
    head = packr.pack(header);
  } catch (err) {
    throw new ProtocolError('schema', `${type}: header cannot be packed: ${(err as Error).message}`, { cause: err });
  }
  return [head, ...frames];
}

/**
 * Decodes and validates a received multipart message.
 *
 * Checks, in order: frame count and sizes against `limits` (`oversized`), the header's MessagePack
 * (`bad-msgpack`), `v` (`wrong-version`), `type` (`unknown-type`), envelope and type fields
 * (`schema`), then each tensor reference against its frame (`oversized` for a declared size over the
 * limit, `frame-mismatch` for missing, shared, unreferenced or wrongly sized frames). Tensor data
 * shares the frame's memory when aligned, and is copied otherwise.
 *
 * @throws ProtocolError, and nothing else, for any input.
 */
export function decode(frames: readonly Uint8Array[], limits: DecodeLimits = {}): Message {
  try {
    return decodeUnchecked(frames, limits);
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    // A bug or an exotic input reaching an unexpected path still surfaces as a refusal.
    throw new ProtocolError('schema', `unexpected failure: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}

function decodeUnchecked(frames: readonly Uint8Array[], limits: DecodeLimits): Message {
  const maxMessage = limits.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const maxHeader = Math.min(limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES, maxMessage);
  const maxFrames = limits.maxFrames ?? DEFAULT_MAX_FRAMES;

  if (!Array.isArray(frames) || frames.length === 0) throw new ProtocolError('frame-mismatch', 'no header frame');
  if (frames.length > maxFrames) throw new ProtocolError('oversized', `${frames.length} frames exceed the limit of ${maxFrames}`);
  let total = 0;
  for (let i = 0; i < frames.length; i++) {
    if (!(frames[i] instanceof Uint8Array)) throw new ProtocolError('frame-mismatch', `frame ${i} is ${typeName(frames[i])}, not bytes`);
    total += frames[i].byteLength;
  }
  if (total > maxMessage) throw new ProtocolError('oversized', `message of ${total} bytes exceeds the limit of ${maxMessage}`);
  if (frames[0].byteLength > maxHeader) {
    throw new ProtocolError('oversized', `header of ${frames[0].byteLength} bytes exceeds the limit of ${maxHeader}`);
  }

  let header: unknown;
  try {
    header = unpackr.unpack(frames[0]);
  } catch (err) {
    throw new ProtocolError('bad-msgpack', `header is not valid MessagePack: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  if (!isPlainObject(header)) throw new ProtocolError('schema', `header is ${typeName(header)}, expected an object`);
  if (header.v !== PROTOCOL_VERSION) {
    const got = typeof header.v === 'number' ? String(header.v) : header.v === undefined ? 'none' : typeName(header.v);
    throw new ProtocolError('wrong-version', `protocol version ${got}, expected ${PROTOCOL_VERSION}`);
  }
  if (!isMessageType(header.type)) {
    const got = typeof header.type === 'string' ? JSON.stringify(header.type.slice(0, 64)) : typeName(header.type);
    throw new ProtocolError('unknown-type', `unknown message type ${got}`);
  }
  const type = header.type;
  validateHeader(type, header);

  const refs = (header.tensors ?? {}) as Record<string, TensorRef>;
  const tensors: Record<string, Tensor> = {};
  const used = new Set<number>();
  for (const name of Object.keys(refs)) {
    const ref = refs[name];
    const size = bytesPerElement(ref.dtype);
    const count = elementCount(ref.shape, Math.floor(maxMessage / size));
    if (count === Infinity) {
      throw new ProtocolError('oversized', `tensor '${name}' declares shape [${ref.shape}] of ${ref.dtype}, over the ${maxMessage}-byte limit`);
    }
    if (ref.frame >= frames.length) throw new ProtocolError('frame-mismatch', `tensor '${name}' refers to frame ${ref.frame} of ${frames.length}`);
    if (used.has(ref.frame)) throw new ProtocolError('frame-mismatch', `frame ${ref.frame} is referenced by more than one tensor`);
    used.add(ref.frame);
    const frame = frames[ref.frame];
    if (frame.byteLength !== count * size) {
      throw new ProtocolError('frame-mismatch', `tensor '${name}' [${ref.shape}] ${ref.dtype} needs ${count * size} bytes, frame ${ref.frame} has ${frame.byteLength}`);
    }
    tensors[name] = { dtype: ref.dtype, shape: ref.shape, data: viewFrame(frame, ref.dtype) };
  }
  if (used.size !== frames.length - 1) {
    throw new ProtocolError('frame-mismatch', `${frames.length - 1} tensor frames but ${used.size} tensor references`);
  }

  const msg: Record<string, unknown> = {};
  for (const key of Object.keys(header)) if (key !== 'tensors' && header[key] !== undefined) msg[key] = header[key];
  msg.tensors = tensors;
  return msg as unknown as Message;
}

/** Narrows a decoded message to type `K`, or throws a `schema` ProtocolError naming both types. */
export function expectType<K extends MessageType>(msg: Message, type: K): Message<K> {
  if (msg.type !== type) throw new ProtocolError('schema', `expected a '${type}' message, got '${msg.type}'`);
  return msg as Message<K>;
}
