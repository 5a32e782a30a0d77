/**
 * The worker side of the actor runtime: a DEALER socket that registers with the coordinator, serves
 * calls to the registered methods one at a time, heartbeats, and gives up when the coordinator goes
 * silent (see coordinator.ts for the conversation).
 *
 * **Methods should yield.** A method runs on the worker's event loop; while a synchronous stretch
 * runs, no heartbeat is sent and no message is read. The coordinator's default timeout (10 s)
 * tolerates a synchronous step of a few seconds; longer work should `await` now and then (e.g.
 * between Gibbs sweeps: `await new Promise((r) => setImmediate(r))`) and check `ctx.signal`.
 */
import { hostname } from 'node:os';
import { Dealer } from 'zeromq';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  ProtocolError,
  decode,
  encode,
  type Message,
  type MessageInput,
} from '@nbm/protocol';
import { ANY_RUN, DEFAULT_HEARTBEAT_MS, DEFAULT_TIMEOUT_MS } from './defaults.ts';
import { checkWorkerCurve, type WorkerCurve } from './curve.ts';
import { requireLoopbackOrCurve } from './endpoint.ts';
import { CoordinatorLostError, RegistrationRefusedError } from './errors.ts';
import { checkTiming, judgeSilence, startTicker, type Ticker } from './liveness.ts';
import { describe, stderrLog, type Log } from './log.ts';
import { Mailbox, type MailboxJob } from './mailbox.ts';
import { SendQueue } from './send-queue.ts';
import { fromWireTensors, toWireTensors, type TypedArray } from './tensors.ts';

/** What a method knows about the call it serves. */
export interface CallContext {
  /** The call's id (unique per coordinator). */
  readonly id: number;
  readonly method: string;
  /** Aborted when the coordinator aborts the call's step, or the worker stops or loses its coordinator. */
  readonly signal: AbortSignal;
  /** The step the call belongs to, when the coordinator named one. */
  readonly step?: number;
  /** The coordinator's timeout for this call, ms, when it set one. */
  readonly timeoutMs?: number;
}

/** What a method returns: plain data in `value`, typed arrays in `frames` (sent as raw frames, bit for bit). */
export interface CallReply {
  value?: unknown;
  frames?: Record<string, ArrayBufferView>;
}

/** An actor method: plain-data args, typed-array tensors by name, the call's context. */
export type ActorMethod = (
  args: unknown[],
  tensors: Record<string, TypedArray>,
  ctx: CallContext,
) => Promise<CallReply | void> | CallReply | void;

/** Placement the coordinator sends with `welcome`. */
export interface Welcome {
  rank: number;
  world: number;
  peers: string[];
  run: string;
}

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** The coordinator's endpoint, e.g. tcp://127.0.0.1:5555. Off loopback, `curve` is required. */
  connect: string;
  /** What the worker tells the coordinator about itself (its pid is added). */
  info: { host: string; device: string; backend: string; configHash: string; dataAddress?: string };
  /** The actor's methods by name. */
  methods: Record<string, ActorMethod>;
  /** CURVE client keys; `serverKey` is the coordinator's public key. */
  curve?: WorkerCurve;
  /** Heartbeat interval, ms (default 1000; the coordinator's, if shorter, wins). */
  heartbeatMs?: number;
  /** Coordinator silence after which the worker gives up with CoordinatorLostError, ms (default 10 000). */
  timeoutMs?: number;
  /** Called (in order with calls) when the coordinator places this worker in the ring; again on re-form. */
  onWelcome?: (w: Welcome) => void;
  /** Receives log lines; default: stderr. */
  log?: (line: string) => void;
  /** The run to join; when absent the worker joins whatever run the coordinator runs. */
  run?: string;
  /** Largest message accepted, bytes (default: the protocol's). */
  maxMessageBytes?: number;
  /** Aborting it stops the worker cleanly: it tells the coordinator it exits, and `runWorker` resolves. */
  signal?: AbortSignal;
}

/** The signal reason of an aborted call (`ctx.signal.reason`); throwing it reports code `aborted`. */
export class CallAbortedError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'aborted';
}

/** Longest text the worker puts in an error's message or stack. */
const MAX_ERROR_TEXT = 16_384;
/** How long a clean exit waits for its acknowledgement to leave, ms. */
const EXIT_LINGER_MS = 500;

/**
 * Connects, registers, and serves calls until the coordinator sends `shutdown` (resolves with its
 * reason) or `opts.signal` aborts.
 *
 * @throws CoordinatorLostError when the coordinator is silent for `timeoutMs` (before or after
 *   registration) or no longer knows this worker; RegistrationRefusedError when it refuses the
 *   registration (the code and reason say why); InsecureEndpointError / TypeError / RangeError
 *   for bad options.
 */
export function runWorker(opts: WorkerOptions): Promise<{ reason: string }> {
  try {
    return new WorkerSession(opts).start();
  } catch (err) {
    return Promise.reject(err);
  }
}

type State = 'registering' | 'serving' | 'done';

class WorkerSession {
  private readonly opts: WorkerOptions;
  private readonly log: Log;
  private readonly dealer: Dealer;
  private readonly queue: SendQueue;
  private readonly mailbox: Mailbox;
  private readonly timeoutMs: number;
  private readonly maxMessageBytes: number;
  private heartbeatMs: number;
  private ticker: Ticker | undefined;
  private state: State = 'registering';
  private run: string;
  private id = '?';
  private rank: number | undefined;
  private lastHeard = performance.now();
  private lastTransportProblem: string | undefined;
  private settle!: { resolve: (r: { reason: string }) => void; reject: (e: Error) => void };
  private readonly onStopSignal = (): void => this.finish({ reason: `stopped: ${describe(this.opts.signal?.reason)}` });

  constructor(opts: WorkerOptions) {
    if (typeof opts?.connect !== 'string' || opts.connect === '') throw new TypeError('runWorker: `connect` must be the coordinator endpoint, e.g. tcp://127.0.0.1:5555');
    if (!opts.methods || typeof opts.methods !== 'object') throw new TypeError('runWorker: `methods` must be an object of functions');
    for (const [name, fn] of Object.entries(opts.methods)) if (typeof fn !== 'function') throw new TypeError(`runWorker: method '${name}' is not a function`);
    requireLoopbackOrCurve(opts.connect, opts.curve !== undefined, 'connect');
    if (opts.curve) checkWorkerCurve(opts.curve);
    this.heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    checkTiming(this.heartbeatMs, this.timeoutMs);
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.opts = opts;
    this.run = opts.run ?? ANY_RUN;
    this.log = opts.log ?? stderrLog(`nbm worker ${hostname()}:${process.pid}`);
    this.mailbox = new Mailbox((job, err) => this.log(`internal error in ${job.label}: ${describe(err)}`));
    this.dealer = new Dealer({ linger: 0, maxMessageSize: this.maxMessageBytes });
    if (opts.curve) {
      this.dealer.curveServerKey = opts.curve.serverKey;
      this.dealer.curvePublicKey = opts.curve.publicKey;
      this.dealer.curveSecretKey = opts.curve.secretKey;
    }
    this.queue = new SendQueue(this.dealer);
  }

  start(): Promise<{ reason: string }> {
    const done = new Promise<{ reason: string }>((resolve, reject) => (this.settle = { resolve, reject }));
    if (this.opts.signal?.aborted) {
      this.dealer.close();
      return Promise.resolve({ reason: `stopped before start: ${describe(this.opts.signal.reason)}` });
    }
    const { host, device, backend, configHash, dataAddress } = this.opts.info ?? ({} as WorkerOptions['info']);
    let register: Buffer[];
    try {
      register = encode({ type: 'register', run: this.run, host, pid: process.pid, device, backend, configHash, protocol: PROTOCOL_VERSION, dataAddress });
    } catch (err) {
      this.dealer.close();
      throw new TypeError(`runWorker: \`info\` or \`run\` cannot be sent: ${(err as Error).message}`, { cause: err });
    }
    this.opts.signal?.addEventListener('abort', this.onStopSignal, { once: true });
    this.watchTransport();
    this.dealer.connect(this.opts.connect);
    void this.receiveLoop();
    this.queue.send(register).catch((err) => this.log(`cannot send register: ${describe(err)}`));
    this.log(`registering with ${this.opts.connect}`);
    this.restartTicker();
    return done;
  }

  // ------------------------------------------------------------------ outcome

  private finish(outcome: { reason: string } | { error: Error }): void {
    if (this.state === 'done') return;
    const wasServing = this.state === 'serving';
    this.state = 'done';
    this.ticker?.stop();
    this.opts.signal?.removeEventListener('abort', this.onStopSignal);
    const why = 'error' in outcome ? outcome.error.message : outcome.reason;
    this.mailbox.close(new CallAbortedError(`the worker is stopping: ${why}`));
    void (async () => {
      if ('reason' in outcome && wasServing) {
        // the exit acknowledgement; a bounded linger lets it leave before the socket closes
        const ack = this.queue.send(encode({ type: 'heartbeat', run: this.run, sentAt: Date.now(), state: 'exiting', rank: this.rank }));
        await Promise.race([ack.catch(() => undefined), sleep(EXIT_LINGER_MS)]);
        this.dealer.linger = EXIT_LINGER_MS;
      }
      this.dealer.close();
      if ('error' in outcome) {
        this.log(`stopping: ${outcome.error.message}`);
        this.settle.reject(outcome.error);
      } else {
        this.log(`stopping: ${outcome.reason}`);
        this.settle.resolve({ reason: outcome.reason });
      }
    })();
  }

  private lost(detail: string): void {
    this.finish({ error: new CoordinatorLostError(this.opts.connect, detail) });
  }

  // ------------------------------------------------------------------ transport

  private send(msg: MessageInput, what: string): void {
    if (this.state === 'done') return;
    let frames: Buffer[];
    try {
      frames = encode(msg);
    } catch (err) {
      this.log(`cannot encode ${what}: ${describe(err)}`);
      return;
    }
    this.queue.send(frames).catch((err) => {
      if (this.state !== 'done') this.log(`cannot send ${what}: ${describe(err)}`);
    });
  }

  private watchTransport(): void {
    const events = this.dealer.events;
    events.on('handshake:error:auth', (e) => {
      const key = this.opts.curve?.publicKey ?? '(none)';
      this.finish({
        error: new RegistrationRefusedError('curve-auth', `the CURVE handshake was refused (status ${e.error.status}): this worker's public key ${key} is not among the coordinator's allowed clients`, this.opts.connect),
      });
    });
    const problem = (what: string): void => {
      this.lastTransportProblem = this.opts.curve
        ? `${what} (check that curve.serverKey is the coordinator's public key)`
        : `${what} (does the coordinator require CURVE keys? then pass --keys DIR)`;
    };
    events.on('handshake:error:protocol', (e) => problem(`handshake failed: ${e.error.message} (${e.error.code})`));
    events.on('handshake:error:other', (e) => problem(`handshake failed: ${e.error.message}`));
    events.on('connect:retry', () => (this.lastTransportProblem ??= 'cannot connect (connection refused or unreachable)'));
    events.on('handshake', () => (this.lastTransportProblem = undefined));
  }

  private restartTicker(): void {
    this.ticker?.stop();
    this.ticker = startTicker(this.heartbeatMs, (late) => this.tick(late));
  }

  private tick(lateMs: number): void {
    if (this.state === 'done') return;
    const now = performance.now();
    const verdict = judgeSilence({ now, lastHeard: this.lastHeard, timeoutMs: this.timeoutMs, tickLateMs: lateMs, intervalMs: this.heartbeatMs });
    if (verdict === 'silent') {
      const silent = Math.round(now - this.lastHeard);
      const transport = this.lastTransportProblem ? `; last transport problem: ${this.lastTransportProblem}` : '';
      if (this.state === 'registering') this.lost(`no answer to register within ${silent} ms (timeout ${this.timeoutMs} ms)${transport}`);
      else this.lost(`silent for ${silent} ms (timeout ${this.timeoutMs} ms)${transport}`);
      return;
    }
    if (this.state === 'serving') {
      const busy = this.mailbox.busy;
      this.send({ type: 'heartbeat', run: this.run, sentAt: Date.now(), rank: this.rank, state: busy ? `busy:${busy}`.slice(0, 64) : 'idle' }, 'heartbeat');
    }
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.dealer) {
        try {
          this.onMessage(frames);
        } catch (err) {
          this.log(`internal error while handling a message: ${(err as Error)?.stack ?? String(err)}`);
        }
      }
    } catch (err) {
      if (this.state !== 'done') this.lost(`the socket failed: ${describe(err)}`);
    }
  }

  // ------------------------------------------------------------------ messages

  private onMessage(frames: Buffer[]): void {
    if (this.state === 'done') return;
    let msg: Message;
    try {
      msg = decode(frames, { maxMessageBytes: this.maxMessageBytes });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      // never answered: an unreadable message gets no reply, so two peers cannot trade errors forever
      this.log(`refused a message from the coordinator: ${err.message}`);
      if (err.reason === 'wrong-version' && this.state === 'registering') {
        this.finish({ error: new RegistrationRefusedError('wrong-version', `${err.message}; this worker speaks ${PROTOCOL_VERSION}`, this.opts.connect) });
      }
      return;
    }
    if (this.state === 'registering') {
      this.onRegistering(msg);
      return;
    }
    if (msg.run !== this.run) {
      this.log(`refused a '${msg.type}' for run ${JSON.stringify(msg.run)}: this worker serves run ${JSON.stringify(this.run)}`);
      if (msg.type === 'call') this.send({ type: 'error', run: this.run, id: msg.id, code: 'wrong-run', message: `call for run ${JSON.stringify(msg.run).slice(0, 200)}, this worker serves run ${JSON.stringify(this.run)}` }, 'error');
      return;
    }
    this.lastHeard = performance.now();
    switch (msg.type) {
      case 'heartbeat':
        return;
      case 'call':
        this.mailbox.push(this.callJob(msg));
        return;
      case 'welcome':
        this.mailbox.push(this.welcomeJob(msg));
        return;
      case 'abort': {
        const hit = this.mailbox.abort(msg.step, new CallAbortedError(`aborted by the coordinator${msg.step === undefined ? '' : ` at step ${msg.step}`}: ${msg.reason}`));
        this.log(`abort${msg.step === undefined ? '' : ` step ${msg.step}`} (${msg.reason}): ${hit.running ? 'aborted the call in flight' : 'no call in flight'}, cancelled ${hit.cancelled} queued`);
        return;
      }
      case 'shutdown':
        this.finish({ reason: `shutdown: ${msg.reason ?? 'no reason given'}` });
        return;
      case 'error':
        if (msg.code === 'not-registered') this.lost(`the coordinator no longer knows this worker (${msg.message})`);
        else this.log(`the coordinator refused a message of this worker: ${msg.code}: ${msg.message}`);
        return;
      default:
        this.log(`ignored an unexpected '${msg.type}' from the coordinator`);
    }
  }

  private onRegistering(msg: Message): void {
    if (msg.type === 'error') {
      this.finish({ error: new RegistrationRefusedError(msg.code, msg.message, this.opts.connect) });
      return;
    }
    if (msg.type !== 'registered') {
      this.log(`ignored a '${msg.type}' before registration was accepted`);
      return;
    }
    if (this.run !== ANY_RUN && msg.run !== this.run) {
      this.finish({ error: new RegistrationRefusedError('wrong-run', `accepted into run ${JSON.stringify(msg.run)}, but this worker was started for run ${JSON.stringify(this.run)}`, this.opts.connect) });
      return;
    }
    this.run = msg.run;
    this.id = msg.id;
    this.state = 'serving';
    this.lastHeard = performance.now();
    this.log(`registered as ${this.id} in run ${this.run}`);
    if (msg.heartbeatMs < this.heartbeatMs) {
      this.heartbeatMs = msg.heartbeatMs;
    }
    if (msg.timeoutMs < 2 * this.heartbeatMs) this.log(`warning: the coordinator's timeout (${msg.timeoutMs} ms) is under two heartbeats (${this.heartbeatMs} ms)`);
    this.restartTicker();
    this.tick(0); // a first heartbeat right away
  }

  private welcomeJob(msg: Message<'welcome'>): MailboxJob {
    return {
      label: `welcome rank ${msg.rank}/${msg.world}`,
      abortable: false,
      run: async () => {
        this.rank = msg.rank;
        this.log(`placed at rank ${msg.rank} of ${msg.world}`);
        try {
          this.opts.onWelcome?.({ rank: msg.rank, world: msg.world, peers: msg.peers, run: this.run });
        } catch (err) {
          this.log(`onWelcome threw: ${describe(err)}`);
          this.send({ type: 'error', run: this.run, code: 'welcome-failed', message: describe(err).slice(0, MAX_ERROR_TEXT) }, 'error');
        }
      },
      cancel: () => undefined,
    };
  }

  private callJob(msg: Message<'call'>): MailboxJob {
    const label = `call ${msg.id} '${msg.method}'`.slice(0, 58);
    const replyError = (code: string, message: string, stack?: string): void =>
      this.send({ type: 'error', run: this.run, step: msg.step, id: msg.id, code: code.slice(0, 64) || 'Error', message: message.slice(0, MAX_ERROR_TEXT), stack: stack?.slice(0, MAX_ERROR_TEXT) }, `the error of ${label}`);
    return {
      label,
      step: msg.step,
      abortable: true,
      cancel: (reason) => replyError('aborted', reason.message),
      run: async (signal) => {
        const fn = Object.prototype.hasOwnProperty.call(this.opts.methods, msg.method) ? this.opts.methods[msg.method] : undefined;
        if (!fn) {
          replyError('unknown-method', `this worker has no method '${msg.method}' (it has: ${Object.keys(this.opts.methods).join(', ') || 'none'})`);
          return;
        }
        const ctx: CallContext = { id: msg.id, method: msg.method, signal, step: msg.step, timeoutMs: msg.timeoutMs };
        let reply: CallReply | void;
        try {
          reply = await fn((msg.args ?? []) as unknown[], fromWireTensors(msg.tensors), ctx);
        } catch (err) {
          if (this.state === 'done') return;
          const e = err as { code?: unknown; name?: unknown; message?: unknown; stack?: unknown } | null;
          const code = typeof e?.code === 'string' && e.code ? e.code : typeof e?.name === 'string' && e.name ? e.name : 'Error';
          const message = typeof e?.message === 'string' ? e.message : String(err);
          replyError(code, message, typeof e?.stack === 'string' ? e.stack : undefined);
          return;
        }
        if (this.state === 'done') return;
        let frames: Buffer[];
        try {
          if (reply !== undefined && (reply === null || typeof reply !== 'object')) throw new TypeError(`a method returns {value?, frames?} or nothing, got ${reply === null ? 'null' : typeof reply}`);
          frames = encode({ type: 'result', run: this.run, step: msg.step, id: msg.id, value: reply?.value as MessageInput<'result'>['value'], tensors: toWireTensors(reply?.frames, `reply of '${msg.method}'`) });
        } catch (err) {
          replyError('bad-reply', `the reply of '${msg.method}' cannot be sent: ${(err as Error).message}`);
          return;
        }
        await this.queue.send(frames).catch((err) => this.log(`cannot send the result of ${label}: ${describe(err)}`));
      },
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
