/**
 * @nbm/protocol: the wire format shared by the coordinator, the workers and the ring.
 *
 * A message is `[header, ...tensor frames]`: a MessagePack header validated against the schema of
 * its type ({@link MessageType}), and raw little-endian tensor frames it references by index.
 * {@link decode} refuses anything else with a {@link ProtocolError} naming the reason.
 *
 * Also the one rule for which endpoints stay on this machine and so may go unencrypted
 * ({@link isLoopbackEndpoint}), used by the control plane and the ring alike.
 */
export { ProtocolError, type ProtocolErrorReason } from './errors.ts';
export { PROTOCOL_VERSION, type Envelope, type Message, type MessageInput, type MessageType } from './messages.ts';
export { encode, decode } from './codec.ts';
export { isLoopbackEndpoint } from './endpoint.ts';
export { maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, type DecodeLimits } from './limits.ts';
export { dtypeOf, type DType, type DTypeArrays, type Tensor, type TensorData, type TensorLike } from './tensor.ts';
