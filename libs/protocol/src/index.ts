/**
 * @nbm/protocol: the wire format shared by the coordinator, the workers and the ring.
 *
 * A message is `[header, ...tensor frames]`: a MessagePack header validated against the schema of
 * its type ({@link MESSAGES}), and raw little-endian tensor frames it references by index.
 * {@link decode} refuses anything else with a {@link ProtocolError} naming the reason.
 *
 * Also the one rule for which endpoints stay on this machine and so may go unencrypted
 * ({@link isLoopbackEndpoint}), used by the control plane and the ring alike.
 */
export { ProtocolError, type ProtocolErrorReason } from './errors.ts';
export {
  PROTOCOL_VERSION,
  MESSAGES,
  ENVELOPE_FIELDS,
  defineMessage,
  isMessageType,
  type Envelope,
  type Message,
  type MessageInput,
  type MessageSpec,
  type MessageType,
  type TensorPolicy,
} from './messages.ts';
export { encode, decode, expectType, MAX_TENSORS } from './codec.ts';
export { isLoopbackEndpoint } from './endpoint.ts';
export {
  maxMessageBytes,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_FRAMES,
  type DecodeLimits,
} from './limits.ts';
export {
  DTYPES,
  MAX_TENSOR_RANK,
  bytesPerElement,
  dtypeOf,
  elementCount,
  type DType,
  type DTypeArrays,
  type Tensor,
  type TensorData,
  type TensorLike,
  type TensorRef,
} from './tensor.ts';
export {
  array,
  boolean,
  data,
  int,
  number,
  object,
  oneOf,
  optional,
  record,
  string,
  validateShape,
  type Field,
  type FieldType,
  type InferShape,
  type PlainData,
  type Shape,
} from './schema.ts';
