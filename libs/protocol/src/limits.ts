/**
 * Size limits of the wire protocol.
 *
 * Two layers enforce them. Every socket that receives nbm messages sets ZeroMQ's `maxMessageSize`
 * option (`socket.maxMessageSize = maxMessageBytes(...)`): libzmq applies it to **each frame** of an
 * inbound message and disconnects a peer that sends a larger frame, before the bytes reach
 * JavaScript. {@link decode} then applies the same number to the **whole** message (all frames
 * together), a smaller one to the header frame, and bounds every declared tensor shape, refusing with
 * reason `oversized`.
 */

/** Default bound on the header frame (frame 0): headers are small; error stacks are the largest. */
export const DEFAULT_MAX_HEADER_BYTES = 256 * 1024;

/** Default bound on a whole message: room for 64 MiB of tensor data. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024 + DEFAULT_MAX_HEADER_BYTES;

/** Default bound on the number of frames (header + tensors). */
export const DEFAULT_MAX_FRAMES = 257;

/** Limits {@link decode} applies; each defaults to the constant of the same name. */
export interface DecodeLimits {
  /** Bound on the total bytes of all frames. */
  maxMessageBytes?: number;
  /** Bound on the header frame's bytes. */
  maxHeaderBytes?: number;
  /** Bound on the number of frames, header included. */
  maxFrames?: number;
}

/**
 * The message size limit for a socket whose largest message carries `payloadBytes` of tensor data:
 * the payload plus room for the header. Use it for both the socket's `maxMessageSize` and
 * {@link DecodeLimits.maxMessageBytes}.
 *
 * @throws RangeError when `payloadBytes` or `headerBytes` is not a non-negative safe integer, or the
 *   sum exceeds 2^31 − 1 (libzmq's frame sizes beyond that are not portable).
 */
export function maxMessageBytes(payloadBytes: number, headerBytes: number = DEFAULT_MAX_HEADER_BYTES): number {
  for (const [name, v] of [['payloadBytes', payloadBytes], ['headerBytes', headerBytes]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`maxMessageBytes: ${name} must be a non-negative integer, got ${v}`);
  }
  const total = payloadBytes + headerBytes;
  if (total > 0x7fff_ffff) throw new RangeError(`maxMessageBytes: ${total} bytes exceeds the 2 GiB frame limit`);
  return total;
}
