/**
 * Which ZeroMQ endpoints only this machine can reach, and the rule that everything else needs CURVE.
 */
import { InsecureEndpointError } from './errors.ts';

/**
 * True for endpoints only this machine can reach: `ipc://`, `inproc://`, and `tcp://` on
 * 127.0.0.0/8, `localhost` or `[::1]`. Wildcards (`tcp://*:5555`), `0.0.0.0`, other addresses and
 * interface names are not loopback.
 */
export function isLoopbackEndpoint(endpoint: string): boolean {
  const m = /^([a-z]+):\/\/(.+)$/.exec(endpoint);
  if (!m) return false;
  const [, scheme, rest] = m;
  if (scheme === 'ipc' || scheme === 'inproc') return true;
  if (scheme !== 'tcp') return false;
  // tcp://[source;]host:port; a source address part would make the host ambiguous, so refuse it
  if (rest.includes(';')) return false;
  const colon = rest.lastIndexOf(':');
  if (colon <= 0) return false;
  const host = rest.slice(0, colon);
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (octets) return octets.slice(1).every((o) => Number(o) <= 255);
  return host === 'localhost' || host === '[::1]';
}

/**
 * Throws {@link InsecureEndpointError} when `endpoint` is not loopback and no CURVE keys are given:
 * the control plane is closed by default.
 */
export function requireLoopbackOrCurve(endpoint: string, hasCurve: boolean, action: 'bind' | 'connect'): void {
  if (!hasCurve && !isLoopbackEndpoint(endpoint)) throw new InsecureEndpointError(endpoint, action);
}
