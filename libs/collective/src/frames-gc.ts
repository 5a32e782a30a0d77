/**
 * When the frames a ring received are freed. ZeroMQ hands each received frame to JavaScript as a Buffer over
 * its own memory and reports that memory to V8 as external (≈ 3 MB a step at the paper's size with N = 2).
 * Left to itself, V8 collects when that count crosses its limits, and the count grows while frames arrive:
 * the scavenges and marking steps then fall inside the next collective, where a pause on one rank stalls
 * every rank. A minor collection between steps frees those frames (their Buffers die young) at a moment
 * when every rank pauses alike: one collection finds a Buffer dead and queues its finalizer, the next runs
 * it, so collecting once a step frees a step's frames by the start of the step after next.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = (options: { type: 'minor' }) => void;

/** V8's `gc`, exposed in a context of its own (the main context gets no `gc` global); null where refused. */
let collect: Collect | null | undefined;

function collector(): Collect | null {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const fn: unknown = runInNewContext('gc');
      collect = typeof fn === 'function' ? (fn as Collect) : null;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/**
 * Collects the young generation now: call it between collectives (a worker does at the start of each step).
 * @returns false where the runtime allows no collection on demand (then it does nothing)
 */
export function collectReceivedFrames(): boolean {
  const fn = collector();
  fn?.({ type: 'minor' });
  return fn !== null;
}
