import { ProtocolError } from '../src/index.ts';

/** Runs `fn` and returns the ProtocolError it throws; fails if it throws anything else or nothing. */
export function refusal(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw new Error(`expected a ProtocolError, got ${(err as Error)?.name}: ${(err as Error)?.message}`);
  }
  throw new Error('expected a ProtocolError, but nothing was thrown');
}
