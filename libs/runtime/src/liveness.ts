/**
 * Liveness: a repeating tick that knows when this process was blocked, and the rule that decides
 * whether a silent peer is gone.
 *
 * The rule guards against a false alarm: when this process's event loop was blocked (a CPU-heavy
 * synchronous step, a long GC pause), the peer's messages may be waiting unread in the socket; the
 * first tick after the block is then late, and judges nobody. The next tick, after the receive loop
 * has drained the socket, judges normally. A process whose ticks are late by more than a whole
 * interval every time would never judge anyone, which is why the threshold is a full interval.
 */

/** What a tick knows when it judges one peer. All times in ms on one monotonic clock. */
export interface SilenceObservation {
  now: number;
  /** When the last valid message from the peer was read. */
  lastHeard: number;
  timeoutMs: number;
  /** How much later than scheduled this tick ran. */
  tickLateMs: number;
  /** The tick's interval. */
  intervalMs: number;
}

/** `alive`: heard within the timeout; `silent`: not, and this process was not blocked; `unsure`: not, but this tick ran late. */
export type SilenceVerdict = 'alive' | 'silent' | 'unsure';

/** Judges one peer (a pure function; see the module comment). */
export function judgeSilence(o: SilenceObservation): SilenceVerdict {
  if (o.now - o.lastHeard <= o.timeoutMs) return 'alive';
  return o.tickLateMs > o.intervalMs ? 'unsure' : 'silent';
}

/** A running tick; {@link stop} ends it. */
export interface Ticker {
  stop(): void;
}

/** Calls `onTick(lateMs)` every `intervalMs`, where `lateMs` is how much later than scheduled it runs. */
export function startTicker(intervalMs: number, onTick: (lateMs: number) => void): Ticker {
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = Math.max(0, now - last - intervalMs);
    last = now;
    onTick(late);
  }, intervalMs);
  return { stop: () => clearInterval(timer) };
}

/** Checks heartbeat and timeout options; throws a RangeError naming the bad one. */
export function checkTiming(heartbeatMs: number, timeoutMs: number): void {
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < 1) throw new RangeError(`heartbeatMs must be a positive integer, got ${heartbeatMs}`);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new RangeError(`timeoutMs must be a positive integer, got ${timeoutMs}`);
  if (timeoutMs < 2 * heartbeatMs) {
    throw new RangeError(`timeoutMs (${timeoutMs}) must be at least twice heartbeatMs (${heartbeatMs}), or one late heartbeat counts as a loss`);
  }
}
