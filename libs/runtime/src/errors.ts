/**
 * Typed errors of the actor runtime. Each message names the problem and, where one exists, the fix;
 * each class carries the facts a caller may act on as fields.
 */

/** The worker gave up on its coordinator: silent for longer than the timeout, or it forgot this worker. */
export class CoordinatorLostError extends Error {
  override readonly name = 'CoordinatorLostError';
  constructor(
    /** The coordinator endpoint the worker was connected to. */
    readonly endpoint: string,
    /** What happened, e.g. `silent for 10012 ms (timeout 10000 ms)`. */
    readonly detail: string,
  ) {
    super(`lost the coordinator at ${endpoint}: ${detail}`);
  }
}

/** A worker died, timed out, disconnected or was dropped; a call pending on it rejects with this. */
export class WorkerLostError extends Error {
  override readonly name = 'WorkerLostError';
  constructor(
    /** The worker's id ({@link WorkerHandle.id}). */
    readonly workerId: string,
    /** Why it was lost, e.g. `no message for 3004 ms (timeout 3000 ms)`. */
    readonly reason: string,
    /** The call that was pending, when this error rejects one. */
    readonly call?: { id: number; method: string },
  ) {
    super(`worker ${workerId} lost${call ? ` during call ${call.id} '${call.method}'` : ''}: ${reason}`);
  }
}

/** A call did not get its reply within its timeout (the worker is still alive, but busy or stuck). */
export class CallTimeoutError extends Error {
  override readonly name = 'CallTimeoutError';
  constructor(
    readonly workerId: string,
    readonly method: string,
    readonly callId: number,
    readonly timeoutMs: number,
  ) {
    super(`call ${callId} '${method}' on worker ${workerId} got no reply within ${timeoutMs} ms`);
  }
}

/** The worker's method threw (or the call could not run there): the remote error's code, message and stack. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    readonly workerId: string,
    readonly method: string,
    readonly callId: number,
    /** Machine-readable: the remote error's `code` when it had a string one, else its name (`TypeError`, …); `unknown-method`, `aborted`, `bad-reply` come from the runtime itself. */
    readonly code: string,
    /** The remote error's message, unchanged. */
    readonly remoteMessage: string,
    /** The remote stack, when the worker sent one. */
    readonly remoteStack?: string,
  ) {
    super(`call ${callId} '${method}' failed on worker ${workerId}: ${code}: ${remoteMessage}`);
  }
}

/** The coordinator refused this worker: wrong config, run, protocol version, or CURVE key. */
export class RegistrationRefusedError extends Error {
  override readonly name = 'RegistrationRefusedError';
  constructor(
    /** Why, machine-readable: `config-mismatch`, `wrong-run`, `wrong-version`, `curve-auth`, `schema`, … */
    readonly code: string,
    /** The coordinator's explanation (or the worker's, when the refusal happened in the handshake). */
    readonly reason: string,
    readonly endpoint: string,
  ) {
    super(`the coordinator at ${endpoint} refused this worker (${code}): ${reason}`);
  }
}

/** {@link Coordinator.waitForWorkers} ran out of time. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  constructor(
    readonly wanted: number,
    readonly arrived: number,
    readonly timeoutMs: number,
    /** A line per worker that did arrive (`w1 host pid 123 cpu`), for the message. */
    readonly arrivals: readonly string[] = [],
    /** what to do about it, appended to the message */
    readonly hint?: string,
  ) {
    super(
      `waited ${timeoutMs} ms for ${wanted} worker${wanted === 1 ? '' : 's'}, ${arrived} arrived` +
        (arrivals.length ? ` (${arrivals.join('; ')})` : '') +
        (hint ? `: ${hint}` : ''),
    );
  }

  /** The same error, saying what to do. */
  withHint(hint: string): WaitTimeoutError {
    return new WaitTimeoutError(this.wanted, this.arrived, this.timeoutMs, this.arrivals, hint);
  }
}

/** An endpoint that would expose the control plane to the network unencrypted. */
export class InsecureEndpointError extends Error {
  override readonly name = 'InsecureEndpointError';
  constructor(readonly endpoint: string, action: 'bind' | 'connect') {
    super(
      `refusing to ${action} ${endpoint} without CURVE keys: only loopback addresses (127.0.0.0/8, localhost, ::1, ipc://, inproc://) ` +
        'may carry the control plane unencrypted and unauthenticated. Make keys with `nbm keygen DIR`, copy DIR to every host, ' +
        'and start the coordinator and each worker with `--keys DIR` (in code: loadKeys(DIR, role) as the `curve` option).',
    );
  }
}

/** A CURVE key file is missing, malformed, or would be overwritten. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  constructor(readonly path: string, problem: string) {
    super(`${path}: ${problem}`);
  }
}
