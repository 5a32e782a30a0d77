/**
 * Why a message was refused at the boundary. Every failure of {@link decode} (and of {@link encode}
 * on a malformed outgoing message) is a {@link ProtocolError} carrying one of these reasons.
 *
 * - `bad-msgpack`: the header frame is not a single well-formed MessagePack value.
 * - `wrong-version`: the header's `v` is not this build's {@link PROTOCOL_VERSION}.
 * - `unknown-type`: the header's `type` names no registered message type.
 * - `schema`: a field is missing, has the wrong type, is out of range, or is not expected.
 * - `oversized`: the message (or its header, or a declared tensor) exceeds a configured limit.
 * - `frame-mismatch`: tensor references and binary frames do not correspond one to one, or a frame's
 *   byte length does not match the tensor's declared dtype and shape.
 */
export type ProtocolErrorReason =
  | 'bad-msgpack'
  | 'wrong-version'
  | 'unknown-type'
  | 'schema'
  | 'oversized'
  | 'frame-mismatch';

/** A message that cannot be accepted (or produced); `reason` is machine-readable, `message` names the problem. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /** The class of problem, for logging and for tests. */
  readonly reason: ProtocolErrorReason;

  constructor(reason: ProtocolErrorReason, detail: string, options?: { cause?: unknown }) {
    super(`${reason}: ${detail}`, options);
    this.reason = reason;
  }
}
