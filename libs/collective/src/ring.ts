/**
 * A ring of N processes for all-reduce, all-gather and broadcast over ZeroMQ.
 *
 * Each rank binds a PULL socket that its left neighbour connects to, and connects a PUSH socket to
 * its right neighbour's PULL. Why PUSH/PULL: traffic on a ring link is one-way, PUSH never drops a
 * message (it waits while the peer is absent, unlike PUB), reconnects after a peer restarts (unlike
 * PAIR over TCP), needs no routing identities (unlike ROUTER), and one peer's frames arrive in order,
 * so each receiver knows exactly which frame comes next. A PULL accepts any connecting peer, so
 * every frame names its run, step, call, phase, segment, chunk and sender and is checked against the
 * schedule (with CURVE, peers also need the ring's key).
 *
 * Algorithm: reduce-scatter then all-gather, pipelined by chunk. The buffer is cut into N segments
 * and each segment into chunks; rank r sends its own segment r, then forwards each chunk it receives
 * as soon as it has combined it with its own data, so sends and receives overlap. After N − 1 hops
 * rank r holds the reduced segment r + 1 and the all-gather carries every reduced segment around the
 * ring, so all ranks end with the same bytes. Every element is reduced in a fixed order, so a float32
 * sum (`--reduce fast`) is identical on every rank, and a fixed-point sum (`--reduce exact`) is exact.
 *
 * Fixed point (`exact`) travels packed, 6 bytes a value (`packFixed`), in both halves of an all-reduce, or
 * as float32 means in the all-gather of {@link Ring.allReduceFixedTo}.
 *
 * Memory: ZeroMQ sends frames over 128 bytes without copying. The schedule only sends a region of
 * the caller's buffer when the ring's data flow guarantees it is delivered before the call returns;
 * the one region that is not (the first all-gather hop) and packed frames are copied into buffers the
 * ring keeps from call to call (see {@link Staging}), and every broadcast root chunk is copied. So the
 * caller may reuse the buffer as soon as a call resolves.
 *
 * Lifecycle: `Ring.bind` → hand `ring.address` to the coordinator → `connect({rank, world, right})`
 * → collectives, one at a time, the same sequence on every rank → `close()` once all ranks are done
 * (see {@link Ring.close}). Any failure breaks the ring: close it and form a new one.
 */
import { Pull, Push, capability } from 'zeromq';
import { ProtocolError, decode, encode, isLoopbackEndpoint, maxMessageBytes, type Message } from '@nbm/protocol';
import {
  CollectiveAbortedError,
  CollectiveError,
  CollectiveMismatchError,
  CollectiveProtocolError,
  CollectiveTimeoutError,
  CollectiveTransportError,
  CollectiveUsageError,
} from './errors.ts';
import { chunkRanges, mod, segmentRange, type Range } from './partition.ts';
import { kernelFor, packedWire, type ReduceBuffer, type ReduceOp } from './reduce.ts';
import { PACKED_BYTES } from './fixed-point.ts';

/** CURVE keys (Z85 strings, as `zeromq.curveKeyPair()` makes them). */
export interface CurveKeys {
  /** This rank's public key. */
  publicKey: string;
  /** This rank's secret key. */
  secretKey: string;
  /** The public key of the right neighbour's PULL (the CURVE server on the bind side). */
  serverKey: string;
}

/** Options of a ring. */
export interface RingOptions {
  /** Bytes of payload per chunk message (default 1 MiB). */
  chunkBytes?: number;
  /** Timeout of a call that names none, in ms (default 30 000). */
  timeoutMs?: number;
  /** Encrypt and authenticate ring links with CURVE; required to bind a non-loopback address. */
  curve?: CurveKeys;
}

/** What a collective's frames are tagged with: frames of another run or step are refused. */
export interface CollectiveTag {
  run: string;
  step: number;
}

/** Options of one collective call. */
export interface CollectiveCallOptions {
  tag: CollectiveTag;
  /** The whole call must finish within this many ms, else it rejects with {@link CollectiveTimeoutError}. */
  timeoutMs?: number;
  /** Aborting it ends the call at once with {@link CollectiveAbortedError} (the ring is then broken). */
  signal?: AbortSignal;
}

/** Options of {@link Ring.allReduce}. */
export interface AllReduceOptions extends CollectiveCallOptions {
  /**
   * The buffer holds fixed-point integers (a Float64Array from `toFixed`): a partial sum beyond
   * ±(2^47 − 1) marks the element NaN instead of rounding, and `fromFixed` then reports it. A sum travels
   * packed, 6 bytes a value.
   */
  exact?: boolean;
}

/** This rank's place in the ring, as the coordinator hands it out. */
export interface RingPlacement {
  rank: number;
  world: number;
  /** Address of the right neighbour's ring socket ({@link Ring.address} there). */
  right: string;
}

/**
 * Default payload bytes per chunk message. Each message costs a fixed overhead (a wakeup on each side, a header,
 * the checks): with 2 and 3 ranks on loopback, 1 MiB chunks were 10–20% faster than 256 KiB for the exact
 * all-reduce of 604k values (`npm run bench -- allreduce --chunk-kib 256,1024`, the sizes side by side).
 */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/** Default timeout of a collective call, ms. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Bound on a chunk message's header frame. */
const HEADER_BYTES = 4096;

type Phase = 'rs' | 'ag' | 'bc';
/** A frame's element type: a buffer's, or `u8` for packed fixed point (PACKED_BYTES a value). */
type WireDtype = 'f32' | 'f64' | 'u8';
/** A frame's payload. */
type Frame = ReduceBuffer | Uint8Array;
type WireOp = ReduceOp | 'copy';
type State = 'bound' | 'connected' | 'busy' | 'broken' | 'closed';

/** What the next incoming frame must be. */
interface Expect {
  phase: Phase;
  k: number;
  seg: number;
  chunk: number;
  range: Range;
}

/** Per-call context: the tag, the deadline and the fields every frame of the call shares. */
interface Call {
  seq: number;
  tag: CollectiveTag;
  op: WireOp;
  n: number;
  /** the reduce-scatter's frames (and a broadcast's, an all-gather's): the buffer's dtype, or packed */
  dtype: WireDtype;
  /** the all-gather's frames: as the reduce-scatter's, but float32 for {@link Ring.allReduceFixedTo} */
  gatherDtype: WireDtype;
  timeoutMs: number;
  deadline: number;
  signal?: AbortSignal;
}

/**
 * A send buffer the ring keeps from call to call, indexed like the vector (element i at i · width bytes), for
 * frames that cannot be views of the caller's buffer: packed ones, and the first all-gather hop. Allocating
 * them afresh (up to a segment a call) cost a garbage collection every few calls.
 *
 * Reuse is safe by the ring's data flow. What `reduce` holds is sent in the reduce-scatter, and every such
 * frame has arrived before the call returns (the segment it feeds comes back to this rank in the all-gather),
 * so the next call may overwrite it from its start. What `gather` holds (the first all-gather hop) may still be
 * on its way when the call returns; it is written only after the next call's first frame from the left, and
 * the left neighbour sends that only once it has finished the call before, which needs every chunk this rank
 * sent right to have come around to it. A buffer that has to grow is replaced, the old one left to its frames.
 */
class Staging {
  private bytes = new Uint8Array(0);

  /** The bytes of elements [start, end) of a vector of `length` elements, `width` bytes each. */
  region(range: Range, width: number, length: number): Uint8Array {
    if (this.bytes.byteLength < length * width) this.bytes = new Uint8Array(length * width);
    return this.bytes.subarray(range.start * width, range.end * width);
  }
}

/** A ring member: create with {@link Ring.bind}, hand its {@link address} out, then {@link connect}. */
export class Ring {
  private readonly pull: Pull;
  private push: Push | undefined;
  private readonly chunkBytes: number;
  private readonly defaultTimeoutMs: number;
  private readonly curve: CurveKeys | undefined;
  private readonly limits: { maxMessageBytes: number; maxHeaderBytes: number; maxFrames: number };
  private state: State = 'bound';
  private failure: Error | undefined;
  private placement: RingPlacement | undefined;
  private seq = 0;
  // send queue: zeromq allows one pending send per socket
  private sendTail: Promise<void> = Promise.resolve();
  private readonly staging = { reduce: new Staging(), gather: new Staging() };
  private sendError: CollectiveError | undefined;

  /** The resolved address of this rank's ring socket (the port filled in when bound to `:*`). */
  readonly address: string;

  private constructor(pull: Pull, address: string, options: Required<Omit<RingOptions, 'curve'>> & { curve?: CurveKeys }) {
    this.pull = pull;
    this.address = address;
    this.chunkBytes = options.chunkBytes;
    this.defaultTimeoutMs = options.timeoutMs;
    this.curve = options.curve;
    const max = maxMessageBytes(options.chunkBytes, HEADER_BYTES);
    this.limits = { maxMessageBytes: max, maxHeaderBytes: HEADER_BYTES, maxFrames: 2 };
  }

  /**
   * Binds this rank's ring socket (e.g. `tcp://127.0.0.1:*` for any free port). The socket refuses
   * frames over chunk size + header at the ZeroMQ level (`maxMessageSize`).
   *
   * @throws CollectiveUsageError for bad options, or a non-loopback address without CURVE keys.
   * @throws CollectiveTransportError when the bind fails.
   */
  static async bind(address: string, options: RingOptions = {}): Promise<Ring> {
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(chunkBytes) || chunkBytes < 8 || chunkBytes > 256 * 1024 * 1024) {
      throw new CollectiveUsageError(`chunkBytes must be an integer in [8, 256 MiB], got ${chunkBytes}`);
    }
    checkTimeout(timeoutMs);
    if (options.curve) checkCurve(options.curve);
    else if (!isLoopbackEndpoint(address)) {
      throw new CollectiveUsageError(
        `refusing to bind the ring to ${address} without CURVE keys: only loopback addresses may be unencrypted; ` +
          'pass {curve: {publicKey, secretKey, serverKey}} (make keys with zeromq.curveKeyPair())',
      );
    }
    const pull = new Pull({ linger: 0, maxMessageSize: maxMessageBytes(chunkBytes, HEADER_BYTES) });
    if (options.curve) {
      pull.curveServer = true;
      pull.curveSecretKey = options.curve.secretKey;
      pull.curvePublicKey = options.curve.publicKey;
    }
    try {
      await pull.bind(address);
    } catch (err) {
      pull.close();
      throw new CollectiveTransportError(`cannot bind the ring socket to ${address}: ${(err as Error).message}`, { cause: err });
    }
    return new Ring(pull, pull.lastEndpoint ?? address, { chunkBytes, timeoutMs, curve: options.curve });
  }

  /** This rank, once connected. */
  get rank(): number {
    return this.requirePlacement().rank;
  }

  /** The number of ranks, once connected. */
  get world(): number {
    return this.requirePlacement().world;
  }

  /**
   * Takes this rank's place: connects to the right neighbour (unless `world` is 1). Connecting is
   * asynchronous in ZeroMQ; the first frames wait in the socket until the link is up.
   *
   * @throws CollectiveUsageError when already connected or closed, or the placement is invalid.
   */
  connect(placement: RingPlacement): void {
    if (this.state !== 'bound') throw new CollectiveUsageError(`cannot connect a ring that is ${this.state}`);
    const { rank, world, right } = placement;
    if (!Number.isInteger(world) || world < 1 || world > 65_535) throw new CollectiveUsageError(`world must be an integer in [1, 65535], got ${world}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= world) throw new CollectiveUsageError(`rank must be an integer in [0, ${world - 1}], got ${rank}`);
    if (world > 1) {
      if (typeof right !== 'string' || !/^[a-z]+:\/\/\S+$/.test(right)) throw new CollectiveUsageError(`right neighbour address is not an endpoint: ${right}`);
      const push = new Push({ linger: 0 });
      if (this.curve) {
        push.curveServerKey = this.curve.serverKey;
        push.curvePublicKey = this.curve.publicKey;
        push.curveSecretKey = this.curve.secretKey;
      }
      try {
        push.connect(right);
      } catch (err) {
        push.close();
        throw new CollectiveTransportError(`cannot connect to the right neighbour at ${right}: ${(err as Error).message}`, { cause: err });
      }
      this.push = push;
    }
    this.placement = { rank, world, right };
    this.state = 'connected';
  }

  /**
   * Reduces `buf` element-wise over all ranks, in place: afterwards every rank holds the same
   * bytes. Every rank must make the same sequence of collective calls with equal lengths and tags.
   *
   * @throws CollectiveTimeoutError when the call does not finish within `timeoutMs`.
   * @throws CollectiveMismatchError for a stale or mismatched frame (another run, step, call, …).
   * @throws CollectiveProtocolError for a frame that is not a valid message.
   * @throws CollectiveUsageError for bad arguments or a ring that is not usable.
   */
  async allReduce(buf: Float32Array | Float64Array, op: ReduceOp, options: AllReduceOptions): Promise<void> {
    const exact = options.exact ?? false;
    if (op !== 'sum' && op !== 'max') throw new CollectiveUsageError(`op must be 'sum' or 'max', got ${JSON.stringify(op)}`);
    if (exact && !(buf instanceof Float64Array)) throw new CollectiveUsageError('exact reduction needs a Float64Array of fixed-point integers');
    const call = this.begin(buf, op, options);
    if (!call) return;
    const packed = exact && op === 'sum';
    if (packed) call.dtype = call.gatherDtype = 'u8';
    try {
      await this.runAllReduce(buf, call, packed ? undefined : kernelFor(op, buf instanceof Float32Array ? 'f32' : 'f64'));
    } catch (err) {
      throw this.fail(err);
    }
    this.state = 'connected';
  }

  /**
   * An exact all-reduce of fixed-point `sum` (as {@link allReduce} with `exact`) for ranks that need the result
   * only as float32: the reduce-scatter carries the integers packed; each rank converts the segment it holds fully
   * reduced with `convert(start, end)`, which must write `out[start, end)` from `sum[start, end)` (an element the
   * reduction marked NaN must come out NaN), and the all-gather carries those float32 bits. So the wire carries
   * 6 + 4 bytes a value (float32's 4 + 4), each rank converts 1/N of the vector, and every rank ends with the same `out`.
   * `sum` is left holding partial sums. Throws as {@link allReduce}.
   */
  async allReduceFixedTo(sum: Float64Array, out: Float32Array, convert: (start: number, end: number) => void, options: CollectiveCallOptions): Promise<void> {
    if (!(sum instanceof Float64Array)) throw new CollectiveUsageError('exact reduction needs a Float64Array of fixed-point integers');
    if (!(out instanceof Float32Array) || out.length !== sum.length) {
      throw new CollectiveUsageError(`out must be a Float32Array of the sum's length ${sum.length}`);
    }
    const call = this.begin(sum, 'sum', options);
    if (!call) return convert(0, sum.length);
    call.dtype = 'u8';
    call.gatherDtype = 'f32';
    try {
      await this.runAllReduce(sum, call, undefined, { out, convert });
    } catch (err) {
      throw this.fail(err);
    }
    this.state = 'connected';
  }

  /**
   * Copies `root`'s `buf` into `buf` on every other rank (e.g. rank 0's parameters at start).
   * Throws as {@link allReduce}.
   */
  async broadcast(buf: Float32Array | Float64Array, root: number, options: CollectiveCallOptions): Promise<void> {
    const world = this.requirePlacement().world;
    if (!Number.isInteger(root) || root < 0 || root >= world) throw new CollectiveUsageError(`root must be a rank in [0, ${world - 1}], got ${root}`);
    const call = this.begin(buf, 'copy', options);
    if (!call) return;
    try {
      await this.runBroadcast(buf, root, call);
    } catch (err) {
      throw this.fail(err);
    }
    this.state = 'connected';
  }

  /**
   * Gathers every rank's `local` (the same length on every rank) into one vector, in rank order: (world × n),
   * rank r's values at [r·n, (r + 1)·n); every rank gets the same bytes. One all-gather pass, N − 1 hops: the
   * cheapest way to combine a few small vectors by several rules (a MAX here, a SUM there) in one collective,
   * each rank then combining them in rank order. Throws as {@link allReduce}.
   */
  async allGather(local: Float32Array | Float64Array, options: CollectiveCallOptions): Promise<Float32Array | Float64Array> {
    const { rank, world } = this.requirePlacement();
    const all = local instanceof Float32Array ? new Float32Array(world * local.length) : new Float64Array(world * local.length);
    all.set(local, rank * local.length);
    const call = this.begin(all, 'copy', options);
    if (!call) return all;
    try {
      await this.runAllGather(all, call);
    } catch (err) {
      throw this.fail(err);
    }
    this.state = 'connected';
    return all;
  }

  /**
   * All-reduces a few float64 scalars (flags combined with MAX, bounds, counts) and returns the
   * result; `values` is not modified. Throws as {@link allReduce}.
   */
  async allReduceScalars(values: Float64Array | readonly number[], op: ReduceOp, options: CollectiveCallOptions): Promise<Float64Array> {
    const out = Float64Array.from(values);
    await this.allReduce(out, op, options);
    return out;
  }

  /**
   * Closes both sockets at once (linger 0, so exit never waits on a dead peer); a call in flight
   * rejects. Idempotent.
   *
   * A collective resolves when *this* rank has its result; its last frames may still be queued for
   * the right neighbour, and closing discards them. Close only once every rank has finished its last
   * call (the coordinator knows: each worker reports the step), or when abandoning the ring after a
   * failure. When every rank has finished a call, every frame of it has been delivered.
   */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.pull.close();
    this.push?.close();
  }

  // ------------------------------------------------------------------ schedule

  /**
   * Reduce-scatter, then all-gather of `buf`, or with `to` of `to.out`, each fully reduced chunk converted into it
   * before it leaves. `combine` adds a frame into the buffer; without it the frames are packed fixed point.
   */
  private async runAllReduce(
    buf: ReduceBuffer,
    call: Call,
    combine: ((dst: ReduceBuffer, src: ReduceBuffer) => void) | undefined,
    to?: { out: Float32Array; convert: (start: number, end: number) => void },
  ): Promise<void> {
    const { rank: r, world: n } = this.requirePlacement();
    const chunkElems = this.chunkElems(buf);
    const chunks = (seg: number) => chunkRanges(segmentRange(buf.length, n, seg), chunkElems);
    const packed = combine === undefined;
    const fixed = buf as Float64Array;
    /** a reduce-scatter frame of buf[range]: the buffer itself (delivered before we finish), or packed */
    const reduceFrame = (range: Range): Frame => {
      if (!packed) return buf.subarray(range.start, range.end);
      const frame = this.staging.reduce.region(range, PACKED_BYTES, buf.length);
      packedWire.pack(fixed.subarray(range.start, range.end), frame);
      return frame;
    };

    // reduce-scatter, hop 0: this rank's own segment
    for (const [c, range] of chunks(r).entries()) this.send(call, 'rs', 0, r, c, reduceFrame(range));

    for (let k = 0; k < n - 1; k++) {
      const seg = mod(r - 1 - k, n);
      for (const [c, range] of chunks(seg).entries()) {
        const data = await this.receive(call, { phase: 'rs', k, seg, chunk: c, range });
        const mine = buf.subarray(range.start, range.end);
        if (packed) packedWire.add(mine as Float64Array, data as Uint8Array);
        else combine(mine, data as ReduceBuffer);
        if (k < n - 2) this.send(call, 'rs', k + 1, seg, c, reduceFrame(range));
        else this.send(call, 'ag', 0, seg, c, this.gatherFrame(to ? to.out : buf, range, call.gatherDtype, to?.convert));
      }
    }
    // after the reduce-scatter this rank holds segment r + 1 (its hop 0 is sent above): it receives r, r − 1, …
    // (the all-gather of `to.out` keeps `buf`'s chunks, so that both halves agree on every frame's range)
    await this.gatherHops(to ? to.out : buf, call, chunks, r);
  }

  /**
   * The first all-gather hop's frame of a fully reduced `src[range]` (converted first by `convert`, when given), in
   * the gather staging buffer: it may still be on its way when the call returns.
   */
  private gatherFrame(src: ReduceBuffer, range: Range, dtype: WireDtype, convert?: (start: number, end: number) => void): Frame {
    convert?.(range.start, range.end);
    const values = src.subarray(range.start, range.end);
    if (dtype === 'u8') {
      const frame = this.staging.gather.region(range, PACKED_BYTES, src.length);
      packedWire.pack(values as Float64Array, frame);
      return frame;
    }
    const bytes = this.staging.gather.region(range, src.BYTES_PER_ELEMENT, src.length);
    const frame = src instanceof Float32Array ? new Float32Array(bytes.buffer, bytes.byteOffset, values.length) : new Float64Array(bytes.buffer, bytes.byteOffset, values.length);
    frame.set(values);
    return frame;
  }

  /** The all-gather half of an all-reduce, started from each rank's own segment (world equal segments). */
  private async runAllGather(buf: ReduceBuffer, call: Call): Promise<void> {
    const { rank: r, world: n } = this.requirePlacement();
    const chunks = (seg: number) => chunkRanges(segmentRange(buf.length, n, seg), this.chunkElems(buf));
    // copied: nothing guarantees delivery before we return
    for (const [c, range] of chunks(r).entries()) this.send(call, 'ag', 0, r, c, buf.slice(range.start, range.end));
    await this.gatherHops(buf, call, chunks, r - 1);
  }

  /**
   * The all-gather hops, once each rank's hop 0 is on its way: hop k receives segment `first` − k from the left,
   * keeps it and forwards it (but the last), then waits for the sends to drain.
   */
  private async gatherHops(buf: ReduceBuffer, call: Call, chunks: (seg: number) => Range[], first: number): Promise<void> {
    const n = this.requirePlacement().world;
    for (let k = 0; k < n - 1; k++) {
      const seg = mod(first - k, n);
      for (const [c, range] of chunks(seg).entries()) {
        const data = await this.receive(call, { phase: 'ag', k, seg, chunk: c, range });
        if (call.gatherDtype === 'u8') packedWire.unpack(data as Uint8Array, (buf as Float64Array).subarray(range.start, range.end));
        else buf.set(data as ReduceBuffer, range.start);
        // forward the received frame itself: it is ours, not the caller's
        if (k < n - 2) this.send(call, 'ag', k + 1, seg, c, data);
      }
    }
    await this.drain(call);
  }

  private async runBroadcast(buf: ReduceBuffer, root: number, call: Call): Promise<void> {
    const { rank: r, world: n } = this.requirePlacement();
    const chunks = chunkRanges({ start: 0, end: buf.length }, this.chunkElems(buf));
    if (r === root) {
      for (const [c, range] of chunks.entries()) this.send(call, 'bc', 0, root, c, buf.slice(range.start, range.end));
    } else {
      const hop = mod(r - root - 1, n);
      const last = mod(r + 1, n) === root;
      for (const [c, range] of chunks.entries()) {
        const data = await this.receive(call, { phase: 'bc', k: hop, seg: root, chunk: c, range });
        buf.set(data as ReduceBuffer, range.start);
        if (!last) this.send(call, 'bc', hop + 1, root, c, data);
      }
    }
    await this.drain(call);
  }

  private chunkElems(buf: ReduceBuffer): number {
    return Math.max(1, Math.floor(this.chunkBytes / buf.BYTES_PER_ELEMENT));
  }

  // ------------------------------------------------------------------ call lifecycle

  /** Validates a call and marks the ring busy; returns undefined when there is nothing to exchange. */
  private begin(buf: ReduceBuffer, op: WireOp, options: CollectiveCallOptions): Call | undefined {
    if (!(buf instanceof Float32Array) && !(buf instanceof Float64Array)) {
      throw new CollectiveUsageError(`buffer must be a Float32Array or Float64Array, got ${(buf as object)?.constructor?.name}`);
    }
    const tag = options?.tag;
    if (!tag || typeof tag.run !== 'string' || tag.run.length === 0 || tag.run.length > 128) {
      throw new CollectiveUsageError('tag.run must be a non-empty string of at most 128 characters');
    }
    if (!Number.isSafeInteger(tag.step) || tag.step < 0) throw new CollectiveUsageError(`tag.step must be a non-negative integer, got ${tag.step}`);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    checkTimeout(timeoutMs);
    if (this.state !== 'connected') {
      const why = this.state === 'bound' ? 'not connected yet' : this.state === 'busy' ? 'busy with another collective' : this.state;
      throw new CollectiveUsageError(`ring is ${why}`, { cause: this.failure });
    }
    const seq = this.seq++;
    if (this.placement!.world === 1 || buf.length === 0) return undefined;
    this.state = 'busy';
    this.sendError = undefined;
    const dtype = buf instanceof Float32Array ? 'f32' : 'f64';
    return { seq, tag, op, n: buf.length, dtype, gatherDtype: dtype, timeoutMs, deadline: Date.now() + timeoutMs, signal: options.signal };
  }

  /** Records a failed call: the ring is broken from now on. Returns the error to throw. */
  private fail(err: unknown): Error {
    let error: Error;
    if (this.state === 'closed') error = new CollectiveTransportError('the ring was closed during a collective', { cause: err });
    else if (err instanceof CollectiveError) error = err;
    else error = new CollectiveTransportError(`collective failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    if (this.state !== 'closed') this.state = 'broken';
    this.failure = error;
    return error;
  }

  // ------------------------------------------------------------------ transport

  private send(call: Call, phase: Phase, k: number, seg: number, chunk: number, data: Frame): void {
    const { rank, world } = this.placement!;
    const frames = encode({
      type: 'chunk', run: call.tag.run, step: call.tag.step, seq: call.seq,
      phase, k, seg, chunk, from: rank, world, op: call.op, n: call.n, tensors: { data },
    });
    const push = this.push!;
    const what = `the right neighbour to take ${phase} k=${k} seg=${seg} chunk=${chunk}`;
    this.sendTail = this.sendTail.then(async () => {
      while (!this.sendError) {
        const remaining = call.deadline - Date.now();
        if (remaining <= 0) {
          this.sendError = new CollectiveTimeoutError(call.timeoutMs, what);
          return;
        }
        try {
          push.sendTimeout = Math.ceil(remaining);
          await push.send(frames);
          return;
        } catch (err) {
          // as in receive: an early timer is retried until the deadline has really passed
          if ((err as { code?: string }).code === 'EAGAIN') continue;
          this.sendError = new CollectiveTransportError(`send to the right neighbour failed: ${(err as Error).message}`, { cause: err });
        }
      }
    });
  }

  /** Waits until every queued send is handed to ZeroMQ; surfaces a send failure. */
  private async drain(call: Call): Promise<void> {
    await untilAborted(this.sendTail, call.signal, 'the right neighbour to take the last frames');
    if (this.sendError) throw this.sendError;
  }

  /** Receives the next frame, checks it is exactly `want`, and returns its payload. */
  private async receive(call: Call, want: Expect): Promise<Frame> {
    if (this.sendError) throw this.sendError;
    const { rank, world } = this.placement!;
    const left = mod(rank - 1, world);
    const where = `${want.phase} k=${want.k} seg=${want.seg} chunk=${want.chunk} from rank ${left}`;
    let frames: Buffer[] | undefined;
    while (!frames) {
      const remaining = call.deadline - Date.now();
      if (remaining <= 0) throw new CollectiveTimeoutError(call.timeoutMs, where);
      try {
        this.pull.receiveTimeout = Math.ceil(remaining);
        frames = await untilAborted(this.pull.receive(), call.signal, where);
      } catch (err) {
        if (err instanceof CollectiveAbortedError) throw err;
        // ZeroMQ's timer runs on the event loop's cached clock and may fire early: wait out the rest
        if ((err as { code?: string }).code === 'EAGAIN') continue;
        throw new CollectiveTransportError(`receive from the left neighbour failed: ${(err as Error).message}`, { cause: err });
      }
    }
    let msg: Message;
    try {
      msg = decode(frames, this.limits);
    } catch (err) {
      if (err instanceof ProtocolError) throw new CollectiveProtocolError(`invalid frame while waiting for ${where}: ${err.message}`, { cause: err });
      throw err;
    }
    if (msg.type !== 'chunk') throw new CollectiveMismatchError('type', 'chunk', msg.type, where);
    // the call's identity first, then the frame's place in it: when two ranks disagree about the call (another
    // buffer length, say), the error names that rather than the out-of-place frame it leads to
    const dtype = want.phase === 'ag' ? call.gatherDtype : call.dtype;
    const expected: Array<[string, unknown, unknown]> = [
      ['run', call.tag.run, msg.run],
      ['step', call.tag.step, msg.step],
      ['seq', call.seq, msg.seq],
      ['op', call.op, msg.op],
      ['n', call.n, msg.n],
      ['world', world, msg.world],
      ['dtype', dtype, msg.tensors.data.dtype],
      ['phase', want.phase, msg.phase],
      ['k', want.k, msg.k],
      ['seg', want.seg, msg.seg],
      ['chunk', want.chunk, msg.chunk],
      ['from', left, msg.from],
      ['length', (want.range.end - want.range.start) * (dtype === 'u8' ? PACKED_BYTES : 1), msg.tensors.data.data.length],
    ];
    for (const [field, exp, got] of expected) {
      if (exp !== got) throw new CollectiveMismatchError(field, exp, got, where);
    }
    return msg.tensors.data.data as Frame;
  }

  private requirePlacement(): RingPlacement {
    if (!this.placement) throw new CollectiveUsageError('ring is not connected yet');
    return this.placement;
  }
}

/**
 * `p`, or a {@link CollectiveAbortedError} as soon as `signal` aborts. The abandoned operation settles later
 * (a receive when the broken ring is closed): its outcome is swallowed.
 */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined, waitingFor: string): Promise<T> {
  if (!signal) return p;
  const aborted = () => new CollectiveAbortedError(waitingFor, String((signal.reason as Error | undefined)?.message ?? signal.reason));
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(aborted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.catch(() => undefined);
      reject(aborted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function checkTimeout(timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 2 ** 31 - 1) {
    throw new CollectiveUsageError(`timeoutMs must be a positive number of ms below 2^31, got ${timeoutMs}`);
  }
}

function checkCurve(curve: CurveKeys): void {
  if (!capability.curve) throw new CollectiveUsageError('CURVE keys were given, but this ZeroMQ build has no CURVE support');
  for (const key of ['publicKey', 'secretKey', 'serverKey'] as const) {
    if (typeof curve[key] !== 'string' || curve[key].length !== 40) {
      throw new CollectiveUsageError(`curve.${key} must be a 40-character Z85 key (see zeromq.curveKeyPair())`);
    }
  }
}
