/**
 * Errors of the collectives. Every failure of a ring operation is a {@link CollectiveError}; after one,
 * the ring is unusable (its peers are in an unknown phase) and must be closed and re-formed.
 */

/** Base class of every collective failure. */
export class CollectiveError extends Error {
  override name = 'CollectiveError';
}

/** A neighbour did not send (or take) what the collective needed before its deadline. */
export class CollectiveTimeoutError extends CollectiveError {
  override name = 'CollectiveTimeoutError';
  constructor(
    /** The deadline the operation was given, in ms. */
    readonly timeoutMs: number,
    /** What was awaited, e.g. `rs k=1 seg=2 chunk=0 from rank 1`. */
    readonly waitingFor: string,
  ) {
    super(`collective timed out after ${timeoutMs} ms waiting for ${waitingFor}`);
  }
}

/**
 * A well-formed frame that does not belong here: another run, step or call (a stale frame from an
 * earlier, failed collective), another phase, segment or chunk, another sender or world size, or a
 * payload of the wrong dtype or length. It is refused, never merged.
 */
export class CollectiveMismatchError extends CollectiveError {
  override name = 'CollectiveMismatchError';
  constructor(
    readonly field: string,
    readonly expected: unknown,
    readonly got: unknown,
    readonly where: string,
  ) {
    super(`mismatched frame while waiting for ${where}: ${field} is ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
  }
}

/** A frame that is not a valid protocol message at all (see the ProtocolError in `cause`). */
export class CollectiveProtocolError extends CollectiveError {
  override name = 'CollectiveProtocolError';
}

/**
 * The caller gave up on the call (its `signal` aborted): typically the coordinator, having lost a peer of this
 * ring, tells the survivors to stop waiting for it rather than let them run into the timeout.
 */
export class CollectiveAbortedError extends CollectiveError {
  override name = 'CollectiveAbortedError';
  constructor(
    /** What was awaited when the signal came. */
    readonly waitingFor: string,
    /** The signal's reason, in words. */
    readonly reason: string,
  ) {
    super(`collective aborted while waiting for ${waitingFor}: ${reason}`);
  }
}

/** A socket-level failure other than a timeout (the ring was closed under the call, a send failed, …). */
export class CollectiveTransportError extends CollectiveError {
  override name = 'CollectiveTransportError';
}

/**
 * The call cannot run: bad arguments, a ring that is not connected, closed, already busy, or broken
 * by an earlier failure (then `cause` is that failure).
 */
export class CollectiveUsageError extends CollectiveError {
  override name = 'CollectiveUsageError';
}
