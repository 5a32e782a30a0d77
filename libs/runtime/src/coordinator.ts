/**
 * The coordinator side of the actor runtime: a ROUTER socket that admits workers, calls their
 * methods, watches their heartbeats and shuts them down. It knows nothing of what the methods do.
 *
 * Conversation with one worker (every message carries the run id):
 * ```
 * worker                        coordinator
 * register {host, pid, …}  ──▶  checks version, run, configHash (CURVE: key checked in the handshake)
 *                          ◀──  registered {id, heartbeatMs, timeoutMs}   … 'join'      (or error {code})
 *                          ◀──  welcome {rank, world, peers}             (when the caller places it; again on re-form)
 *                          ◀──  call {id, method, args} + tensor frames
 * result {id, value} + frames ─▶   (or error {id, code, message, stack})
 * heartbeat (both ways, every heartbeatMs; any valid message counts as a sign of life)
 *                          ◀──  abort {reason} (envelope step)  /  shutdown {reason}
 * heartbeat {state: exiting} ─▶  (the exit acknowledgement)
 * ```
 * Socket rules: `mandatory` (a message to a vanished peer fails instead of vanishing), `linger: 0`,
 * `maxMessageSize`, and `sendTimeout: 0` — with `mandatory` and no peer connected, zeromq.js would
 * otherwise wait forever for the socket to become writable; with it, a send to a gone or
 * congested peer fails at once (EHOSTUNREACH / EAGAIN) and that worker is marked lost. One receive
 * loop and one {@link SendQueue} for the socket.
 */
import { EventEmitter } from 'node:events';
import { Context, Router } from 'zeromq';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  ProtocolError,
  decode,
  encode,
  type Message,
  type MessageInput,
} from '@nbm/protocol';
import { checkCoordinatorCurve, type CoordinatorCurve } from './curve.ts';
import { ANY_RUN, DEFAULT_HEARTBEAT_MS, DEFAULT_TIMEOUT_MS } from './defaults.ts';
import { requireLoopbackOrCurve } from './endpoint.ts';
import { CallTimeoutError, RemoteError, WaitTimeoutError, WorkerLostError } from './errors.ts';
import { checkTiming, judgeSilence, startTicker, type Ticker } from './liveness.ts';
import { describe, repeatFilter, stderrLog, type Log } from './log.ts';
import { SendQueue } from './send-queue.ts';
import { fromWireTensors, toWireTensors, type TypedArray } from './tensors.ts';
import { startZapHandler, type ZapHandler } from './zap.ts';

/** Longest wait for the workers' exit acknowledgements in {@link Coordinator.shutdown}, ms. */
const SHUTDOWN_GRACE_MS = 2000;
/** Longest error message the coordinator puts on the wire. */
const MAX_REPLY_TEXT = 4096;

/** What a worker said about itself when it registered. */
export interface WorkerInfo {
  host: string;
  pid: number;
  device: string;
  backend: string;
  configHash: string;
  /** Where its data-plane (ring) socket listens, when it has one. */
  dataAddress?: string;
}

/** A registered worker, as the coordinator sees it. The object is live: the runtime updates it in place. */
export interface WorkerHandle {
  /** The coordinator's name for it (`w1`, `w2`, … in join order); stable while it stays connected. */
  readonly id: string;
  readonly info: WorkerInfo;
  /** Wall-clock time of its registration, ms since the epoch. */
  readonly joinedAt: number;
  /** Wall-clock time of its last valid message, ms since the epoch. */
  lastHeartbeat: number;
  /** False once it is lost, dropped or has exited. */
  alive: boolean;
  /** The state its last heartbeat reported (`idle`, `busy:<method>`, `exiting`). */
  state?: string;
}

/** Options of {@link Coordinator.bind}. */
export interface CoordinatorOptions {
  /** Endpoint to bind, e.g. `tcp://127.0.0.1:*` (any free port) or `tcp://0.0.0.0:5555` (needs `curve`). */
  bind: string;
  /** Run id: every message carries it; messages of another run are refused. */
  run: string;
  /** CURVE keys: encrypts the control plane and admits only workers whose public key is listed. Required off loopback. */
  curve?: CoordinatorCurve;
  /** A worker whose register carries another configHash is refused (`config-mismatch`). */
  configHash?: string;
  /** Heartbeat interval, ms (default 1000). */
  heartbeatMs?: number;
  /** Silence after which a worker is lost, ms (default 10 000). */
  timeoutMs?: number;
  /** Largest message accepted, bytes (socket `maxMessageSize` per frame, and the whole message at decode). */
  maxMessageBytes?: number;
  /** Default timeout of {@link Coordinator.call}, ms; none when absent (calls still end when their worker is lost). */
  callTimeoutMs?: number;
  /** Receives log lines; default: stderr. */
  log?: (line: string) => void;
}

/** Options of one call. */
export interface CallOptions {
  /** Reject with {@link CallTimeoutError} when no reply arrives within this many ms. */
  timeoutMs?: number;
  /** The training step the call belongs to (the envelope's `step`; `abort(step)` applies to it). */
  step?: number;
}

/** What a call resolves with. */
export interface CallResult {
  value: unknown;
  tensors: Record<string, TypedArray>;
}

/** Details of a refusal, the second argument of the `refused` event. */
export interface Refusal {
  /** Machine-readable: a ProtocolError reason, `wrong-run`, `config-mismatch`, `not-registered`, `curve-auth`, `handshake`, … */
  code: string;
  /** The worker's id when the sender was registered, else its routing id (hex) or IP address. */
  peer: string;
}

/** Events of a {@link Coordinator}. It never emits `error`. */
export interface CoordinatorEvents {
  join: [worker: WorkerHandle];
  lost: [worker: WorkerHandle, reason: string];
  refused: [reason: string, detail: Refusal];
}

interface Peer {
  readonly handle: WorkerHandle;
  readonly routing: Buffer;
  /** performance.now() of the last valid message. */
  lastHeard: number;
}

interface Pending {
  readonly worker: string;
  readonly method: string;
  readonly resolve: (r: CallResult) => void;
  readonly reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

/**
 * The coordinator: bind it, wait for workers, place them with {@link welcome}, {@link call} their
 * methods, {@link shutdown}. Emits `join` (handle), `lost` (handle, reason) and `refused` (reason,
 * detail); never `error`. A bad message from anyone is refused with a logged reason and never
 * throws out of the receive loop.
 */
export class Coordinator extends EventEmitter<CoordinatorEvents> {
  /** The bound endpoint, port filled in. */
  readonly endpoint: string;
  /** The run id. */
  readonly run: string;
  readonly heartbeatMs: number;
  readonly timeoutMs: number;

  private readonly router: Router;
  private readonly zap: ZapHandler | undefined;
  private readonly queue: SendQueue;
  private readonly log: Log;
  private readonly handshakeFilter = repeatFilter(5000);
  private readonly maxMessageBytes: number;
  private readonly configHash: string | undefined;
  private readonly callTimeoutMs: number | undefined;
  private readonly byRouting = new Map<string, Peer>();
  private readonly byId = new Map<string, Peer>();
  /** Why each worker that is no longer alive went away, for errors about it. */
  private readonly gone = new Map<string, string>();
  private readonly pending = new Map<number, Pending>();
  private readonly exitAcks = new Map<string, () => void>();
  private readonly waiters = new Set<(err: Error) => void>();
  private readonly ticker: Ticker;
  private joined = 0;
  private nextCallId = 1;
  private closing: Promise<void> | undefined;
  /** Set synchronously when shutdown starts. */
  private stopping = false;

  private constructor(router: Router, zap: ZapHandler | undefined, endpoint: string, o: Required<Pick<CoordinatorOptions, 'run' | 'heartbeatMs' | 'timeoutMs' | 'maxMessageBytes'>> & CoordinatorOptions, log: Log) {
    super();
    this.router = router;
    this.zap = zap;
    this.endpoint = endpoint;
    this.run = o.run;
    this.heartbeatMs = o.heartbeatMs;
    this.timeoutMs = o.timeoutMs;
    this.maxMessageBytes = o.maxMessageBytes;
    this.configHash = o.configHash;
    this.callTimeoutMs = o.callTimeoutMs;
    this.log = log;
    this.queue = new SendQueue(router);
    this.watchTransport();
    void this.receiveLoop();
    this.ticker = startTicker(this.heartbeatMs, (late) => this.tick(late));
  }

  /**
   * Binds the coordinator's socket. (It shadows `Function.prototype.bind` on the class, by design of the API.)
   *
   * @throws InsecureEndpointError for a non-loopback endpoint without `curve` (the message says how to make keys).
   * @throws TypeError / RangeError for malformed options or keys; the bind's own error when the address is taken.
   */
  static override async bind(opts: CoordinatorOptions): Promise<Coordinator> {
    if (typeof opts?.bind !== 'string' || opts.bind === '') throw new TypeError('Coordinator.bind: `bind` must be an endpoint such as tcp://127.0.0.1:*');
    if (typeof opts.run !== 'string' || opts.run.length < 1 || opts.run.length > 128 || opts.run === ANY_RUN) {
      throw new TypeError(`Coordinator.bind: \`run\` must be a string of 1 to 128 characters other than '${ANY_RUN}', got ${JSON.stringify(opts.run)}`);
    }
    requireLoopbackOrCurve(opts.bind, opts.curve !== undefined, 'bind');
    if (opts.curve) checkCoordinatorCurve(opts.curve);
    const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    checkTiming(heartbeatMs, timeoutMs);
    const maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1024) throw new RangeError(`maxMessageBytes must be an integer ≥ 1024, got ${maxMessageBytes}`);
    if (opts.callTimeoutMs !== undefined && !(opts.callTimeoutMs > 0)) throw new RangeError(`callTimeoutMs must be positive, got ${opts.callTimeoutMs}`);
    const log = opts.log ?? stderrLog('nbm coordinator');

    // A CURVE coordinator gets a context of its own: its ZAP handler is per context.
    const context = opts.curve ? new Context() : undefined;
    let zap: ZapHandler | undefined;
    let coordinator: Coordinator | undefined;
    if (opts.curve && context) {
      zap = await startZapHandler(context, opts.curve.allowedClients, (d) => {
        if (d.allowed) log(`CURVE: admitted key ${d.clientKey} from ${d.address}`);
        else coordinator?.refuseHandshake('curve-auth', d.address, `CURVE handshake from ${d.address} refused: ${d.reason}`);
      }, log);
    }
    const router = new Router({
      ...(context ? { context } : {}),
      linger: 0,
      mandatory: true,
      sendTimeout: 0,
      maxMessageSize: maxMessageBytes,
    });
    if (opts.curve) {
      router.curveServer = true;
      router.curveSecretKey = opts.curve.secretKey;
      router.curvePublicKey = opts.curve.publicKey;
      router.zapDomain = 'nbm';
    }
    try {
      await router.bind(opts.bind);
    } catch (err) {
      router.close();
      zap?.close();
      throw new Error(`cannot bind the coordinator to ${opts.bind}: ${(err as Error).message}`, { cause: err });
    }
    coordinator = new Coordinator(router, zap, router.lastEndpoint ?? opts.bind, { ...opts, heartbeatMs, timeoutMs, maxMessageBytes }, log);
    log(`listening on ${coordinator.endpoint} for run ${opts.run}${opts.curve ? ' (CURVE)' : ''}`);
    return coordinator;
  }

  /** The live workers, in join order. */
  workers(): WorkerHandle[] {
    return [...this.byId.values()].map((p) => p.handle);
  }

  /**
   * Resolves with the live workers once at least `n` are registered.
   *
   * @throws WaitTimeoutError naming how many arrived, after `timeoutMs`.
   */
  waitForWorkers(n: number, timeoutMs: number): Promise<WorkerHandle[]> {
    if (!Number.isInteger(n) || n < 0) return Promise.reject(new RangeError(`waitForWorkers: n must be a non-negative integer, got ${n}`));
    if (this.stopping) return Promise.reject(new Error('waitForWorkers: the coordinator is shut down'));
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.byId.size < n) return;
        done();
        resolve(this.workers());
      };
      const fail = (err: Error): void => {
        done();
        reject(err);
      };
      const timer = setTimeout(() => {
        const arrivals = this.workers().map((w) => `${w.id} ${w.info.host} pid ${w.info.pid} ${w.info.device || w.info.backend}`);
        fail(new WaitTimeoutError(n, arrivals.length, timeoutMs, arrivals));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.off('join', check);
        this.waiters.delete(fail);
      };
      this.on('join', check);
      this.waiters.add(fail);
      check();
    });
  }

  /**
   * Sends `welcome` (the worker's place in the ring). May be sent again when the ring is re-formed.
   *
   * @throws WorkerLostError when the worker is not alive or the send fails; ProtocolError for an
   *   inconsistent placement (rank ≥ world, peers.length ≠ world).
   */
  async welcome(id: string, w: { rank: number; world: number; peers: string[] }): Promise<void> {
    const peer = this.livePeer(id);
    const frames = encode({ type: 'welcome', run: this.run, rank: w.rank, world: w.world, peers: w.peers });
    await this.sendTo(peer, frames);
  }

  /**
   * Calls `method` on worker `id`, with plain-data `args` and typed-array `tensors` (sent as raw
   * frames: do not modify them until the call settles).
   *
   * @throws WorkerLostError when the worker is lost, dropped or disconnects while the call is pending;
   *   CallTimeoutError after `opts.timeoutMs`; RemoteError when the method threw (code, message,
   *   remote stack); ProtocolError/TypeError when args or tensors cannot be encoded.
   */
  async call(id: string, method: string, args: unknown[] = [], tensors?: Record<string, ArrayBufferView>, opts: CallOptions = {}): Promise<CallResult> {
    const peer = this.livePeer(id);
    const callId = this.nextCallId++;
    const timeoutMs = opts.timeoutMs ?? this.callTimeoutMs;
    if (timeoutMs !== undefined && !(timeoutMs > 0 && timeoutMs <= 0x7fff_ffff)) throw new RangeError(`call '${method}': timeoutMs must be a positive number of ms, got ${timeoutMs}`);
    const frames = encode({
      type: 'call',
      run: this.run,
      step: opts.step,
      id: callId,
      method,
      args: args as MessageInput<'call'>['args'],
      timeoutMs: timeoutMs === undefined ? undefined : Math.ceil(timeoutMs),
      tensors: toWireTensors(tensors, `call '${method}'`),
    });
    return new Promise<CallResult>((resolve, reject) => {
      const entry: Pending = { worker: id, method, resolve, reject };
      if (timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          this.pending.delete(callId);
          reject(new CallTimeoutError(id, method, callId, timeoutMs));
        }, timeoutMs);
      }
      this.pending.set(callId, entry);
      this.sendTo(peer, frames).catch(() => undefined); // a failed send loses the worker, which rejects the call
    });
  }

  /**
   * Sends `abort` for `step` to the live workers named in `workers` (default: every live worker): each aborts
   * its in-flight call's signal and drops queued calls of that step or earlier. Name the workers when the pool
   * is shared (a sweep's data-parallel trials): an abort covers calls without a step too, so a broadcast would
   * also abort the other trials' calls.
   */
  async abort(step: number, reason: string, workers?: readonly string[]): Promise<void> {
    const frames = encode({ type: 'abort', run: this.run, step, reason: reason.slice(0, MAX_REPLY_TEXT) });
    const targets = workers ? workers.flatMap((id) => this.byId.get(id) ?? []) : [...this.byId.values()];
    this.log(`abort step ${step}${workers ? ` on ${workers.join(', ')}` : ''}: ${reason}`);
    await Promise.allSettled(targets.map((p) => this.sendTo(p, frames)));
  }

  /**
   * Forgets a worker (e.g. it missed the step): its pending calls reject with WorkerLostError, it is
   * told to shut down (best effort), and any later message from it is refused as `not-registered`,
   * which makes it exit. No `lost` event: the caller knows.
   */
  drop(id: string, reason: string): void {
    const peer = this.byId.get(id);
    if (!peer) return;
    this.log(`dropping worker ${id}: ${reason}`);
    const frames = encode({ type: 'shutdown', run: this.run, reason: `dropped by the coordinator: ${reason}`.slice(0, MAX_REPLY_TEXT) });
    this.queue.send([peer.routing, ...frames]).catch(() => undefined);
    this.forget(peer, `dropped: ${reason}`);
  }

  /**
   * Rejects every pending call with WorkerLostError (the workers abandon them), sends `shutdown` to
   * every live worker, waits up to 2 s (or the timeout, if shorter) for their exit
   * acknowledgements, and closes the sockets. Calls made after it starts reject at once. Idempotent.
   */
  shutdown(reason = 'coordinator shut down'): Promise<void> {
    if (!this.closing) {
      this.stopping = true;
      this.closing = this.close(reason);
    }
    return this.closing;
  }

  // ------------------------------------------------------------------ internals

  private async close(reason: string): Promise<void> {
    for (const fail of [...this.waiters]) fail(new Error(`the coordinator shut down while waiting for workers: ${reason}`));
    // the workers abandon their calls on shutdown: reject them now, with the reason
    for (const [callId, p] of [...this.pending]) this.settle(callId, p, () => p.reject(new WorkerLostError(p.worker, `coordinator shut down: ${reason}`, { id: callId, method: p.method })));
    const peers = [...this.byId.values()];
    const acks = peers.map((p) => new Promise<void>((resolve) => this.exitAcks.set(p.handle.id, resolve)));
    if (peers.length) {
      const frames = encode({ type: 'shutdown', run: this.run, reason: reason.slice(0, MAX_REPLY_TEXT) });
      for (const p of peers) this.sendTo(p, frames).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(acks), new Promise<void>((r) => (timer = setTimeout(r, Math.min(SHUTDOWN_GRACE_MS, this.timeoutMs))))]);
      clearTimeout(timer);
      const missing = [...this.byId.keys()];
      if (missing.length) this.log(`shutdown: no exit acknowledgement from ${missing.join(', ')}`);
    }
    for (const p of [...this.byId.values()]) this.forget(p, `coordinator shut down: ${reason}`);
    this.ticker.stop();
    this.router.close();
    this.zap?.close();
    this.log(`shut down: ${reason}`);
  }

  private livePeer(id: string): Peer {
    const peer = this.byId.get(id);
    if (this.stopping) throw new WorkerLostError(id, 'the coordinator is shutting down');
    if (!peer) throw new WorkerLostError(id, this.gone.get(id) ?? 'no such worker');
    return peer;
  }

  /** Sends to a worker; a failure that means it is gone (or congested) loses it, and rethrows as WorkerLostError. */
  private async sendTo(peer: Peer, frames: Buffer[]): Promise<void> {
    try {
      await this.queue.send([peer.routing, ...frames]);
    } catch (err) {
      const code = (err as { code?: string }).code;
      const reason =
        code === 'EHOSTUNREACH'
          ? 'disconnected (its connection closed: the process exited or the network failed)'
          : code === 'EAGAIN'
            ? 'not reading its messages (the send queue to it is full)'
            : `send failed: ${describe(err)}`;
      this.lose(peer, reason);
      throw new WorkerLostError(peer.handle.id, reason);
    }
  }

  /** Marks a worker lost: pending calls reject, `lost` is emitted. No-op for a worker already gone. */
  private lose(peer: Peer, reason: string): void {
    if (!peer.handle.alive) return;
    if (this.stopping) {
      this.forget(peer, reason);
      return;
    }
    this.log(`worker ${peer.handle.id} (${peer.handle.info.host} pid ${peer.handle.info.pid}) lost: ${reason}`);
    this.forget(peer, reason);
    this.emit('lost', peer.handle, reason);
  }

  /** Removes a worker from the live set and rejects its pending calls. */
  private forget(peer: Peer, reason: string): void {
    if (!peer.handle.alive) return;
    peer.handle.alive = false;
    this.byId.delete(peer.handle.id);
    this.byRouting.delete(peer.routing.toString('hex'));
    this.gone.set(peer.handle.id, reason);
    this.exitAcks.get(peer.handle.id)?.();
    this.exitAcks.delete(peer.handle.id);
    for (const [callId, p] of [...this.pending]) {
      if (p.worker === peer.handle.id) this.settle(callId, p, () => p.reject(new WorkerLostError(p.worker, reason, { id: callId, method: p.method })));
    }
  }

  private settle(callId: number, p: Pending, fn: () => void): void {
    this.pending.delete(callId);
    clearTimeout(p.timer);
    fn();
  }

  /** Every heartbeatMs: judge each worker's silence, and send each a heartbeat. */
  private tick(lateMs: number): void {
    if (this.stopping) return;
    const now = performance.now();
    let heartbeat: Buffer[] | undefined;
    for (const peer of [...this.byId.values()]) {
      const verdict = judgeSilence({ now, lastHeard: peer.lastHeard, timeoutMs: this.timeoutMs, tickLateMs: lateMs, intervalMs: this.heartbeatMs });
      if (verdict === 'silent') {
        this.lose(peer, `no message for ${Math.round(now - peer.lastHeard)} ms (timeout ${this.timeoutMs} ms)`);
        continue;
      }
      heartbeat ??= encode({ type: 'heartbeat', run: this.run, sentAt: Date.now() });
      this.sendTo(peer, heartbeat).catch(() => undefined);
    }
  }

  /** Transport events: a closed connection probes every worker at once, so a dead process is noticed without waiting for the timeout. */
  private watchTransport(): void {
    const events = this.router.events;
    events.on('disconnect', () => {
      if (this.stopping) return;
      // which peer closed is not reported; a send to it now fails with EHOSTUNREACH
      const frames = encode({ type: 'heartbeat', run: this.run, sentAt: Date.now() });
      for (const peer of [...this.byId.values()]) this.sendTo(peer, frames).catch(() => undefined);
    });
    events.on('handshake:error:protocol', (e) =>
      this.refuseHandshake('handshake', e.address, `handshake with a peer on ${e.address} failed: ${e.error.message} (${e.error.code}); a worker with a wrong serverKey, or without CURVE, looks like this`),
    );
    events.on('handshake:error:other', (e) => this.refuseHandshake('handshake', e.address, `handshake with a peer on ${e.address} failed: ${e.error.message}`));
  }

  /** Reports a refused handshake, once per 5 s for the same reason: a refused client retries every 100 ms. */
  private refuseHandshake(code: string, peer: string, reason: string): void {
    const line = this.handshakeFilter(reason);
    if (line === undefined) return;
    this.log(line);
    this.emit('refused', line, { code, peer });
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const [routing, ...frames] of this.router) {
        try {
          this.onMessage(routing, frames);
        } catch (err) {
          this.log(`internal error while handling a message: ${(err as Error)?.stack ?? String(err)}`);
        }
      }
    } catch (err) {
      if (!this.stopping) this.log(`receive loop stopped: ${describe(err)}`);
    }
  }

  private onMessage(routing: Buffer, frames: Buffer[]): void {
    const peer = this.byRouting.get(routing.toString('hex'));
    let msg: Message;
    try {
      msg = decode(frames, { maxMessageBytes: this.maxMessageBytes });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.refuse(routing, peer, err.reason, err.message.slice(err.reason.length + 2), true);
      return;
    }
    if (msg.type === 'register') {
      this.onRegister(routing, peer, msg);
      return;
    }
    const replyable = msg.type !== 'error'; // never answer an error with an error: no ping-pong
    if (!peer) {
      this.refuse(routing, undefined, 'not-registered', `a '${msg.type}' from a peer that is not a registered worker of run ${this.run}`, replyable);
      return;
    }
    if (msg.run !== this.run) {
      this.refuse(routing, peer, 'wrong-run', `a '${msg.type}' for run ${JSON.stringify(msg.run)}, this is run ${JSON.stringify(this.run)}`, replyable);
      return;
    }
    peer.lastHeard = performance.now();
    peer.handle.lastHeartbeat = Date.now();
    switch (msg.type) {
      case 'heartbeat':
        peer.handle.state = msg.state;
        if (msg.state === 'exiting') {
          if (this.stopping) this.forget(peer, 'exited on shutdown');
          else this.lose(peer, 'the worker announced its exit');
        }
        return;
      case 'result':
        this.onReply(peer, msg.id, (p) => p.resolve({ value: msg.value, tensors: fromWireTensors(msg.tensors) }));
        return;
      case 'error':
        if (msg.id === undefined) {
          this.log(`worker ${peer.handle.id} reports ${msg.code}: ${msg.message}`);
          return;
        }
        this.onReply(peer, msg.id, (p) => p.reject(new RemoteError(peer.handle.id, p.method, msg.id!, msg.code, msg.message, msg.stack)));
        return;
      default:
        this.refuse(routing, peer, 'unexpected-type', `a worker does not send '${msg.type}' messages`, true);
    }
  }

  private onReply(peer: Peer, callId: number, fn: (p: Pending) => void): void {
    const p = this.pending.get(callId);
    if (!p || p.worker !== peer.handle.id) {
      this.log(`ignoring a reply from worker ${peer.handle.id} to call ${callId}, which is not pending on it (timed out or never made)`);
      return;
    }
    this.settle(callId, p, () => fn(p));
  }

  private onRegister(routing: Buffer, peer: Peer | undefined, msg: Message<'register'>): void {
    const refuse = (code: string, text: string): void => this.refuse(routing, peer, code, text, true);
    if (peer) return refuse('already-registered', `this connection is already registered as worker ${peer.handle.id}`);
    if (this.stopping) return refuse('shutting-down', 'the coordinator is shutting down');
    if (msg.run !== this.run && msg.run !== ANY_RUN) return refuse('wrong-run', `register for run ${JSON.stringify(msg.run)}, this coordinator runs ${JSON.stringify(this.run)}`);
    if (msg.protocol !== PROTOCOL_VERSION) return refuse('wrong-version', `worker speaks protocol version ${msg.protocol}, this coordinator ${PROTOCOL_VERSION}`);
    if (this.configHash !== undefined && msg.configHash !== this.configHash) {
      return refuse('config-mismatch', `the worker's model config hash ${msg.configHash} differs from the run's ${this.configHash}: start it with the run's configuration`);
    }
    const handle: WorkerHandle = {
      id: `w${++this.joined}`,
      info: { host: msg.host, pid: msg.pid, device: msg.device, backend: msg.backend, configHash: msg.configHash, ...(msg.dataAddress ? { dataAddress: msg.dataAddress } : {}) },
      joinedAt: Date.now(),
      lastHeartbeat: Date.now(),
      alive: true,
      state: 'idle',
    };
    const joined: Peer = { handle, routing: Buffer.from(routing), lastHeard: performance.now() };
    this.byRouting.set(routing.toString('hex'), joined);
    this.byId.set(handle.id, joined);
    this.log(`worker ${handle.id} joined: ${handle.info.host} pid ${handle.info.pid} device ${JSON.stringify(handle.info.device)} backend ${handle.info.backend}`);
    this.sendTo(joined, encode({ type: 'registered', run: this.run, id: handle.id, heartbeatMs: this.heartbeatMs, timeoutMs: this.timeoutMs })).catch(() => undefined);
    this.emit('join', handle);
  }

  /** Logs and reports a refused message; answers the sender with an `error` when `reply`. */
  private refuse(routing: Buffer, peer: Peer | undefined, code: string, text: string, reply: boolean): void {
    const who = peer ? `worker ${peer.handle.id}` : `peer ${routing.toString('hex')}`;
    const reason = `refused a message from ${who}: ${code}: ${text}`;
    this.log(reason);
    this.emit('refused', reason, { code, peer: peer?.handle.id ?? routing.toString('hex') });
    if (!reply || this.stopping) return;
    const frames = encode({ type: 'error', run: this.run, code: code.slice(0, 64), message: text.slice(0, MAX_REPLY_TEXT) });
    this.queue.send([routing, ...frames]).catch(() => undefined);
  }
}
