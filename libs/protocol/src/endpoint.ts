/**
 * Which ZeroMQ endpoints only this machine can reach. The control plane (@nbm/runtime) and the ring
 * (@nbm/collective) both refuse to talk unencrypted anywhere else, by this one rule.
 */

/** `tcp://127.a.b.c`, each of a, b, c a decimal octet (at most 255). */
const LOOPBACK_V4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * True for endpoints only this machine can reach: `ipc://PATH`, `inproc://NAME`, and `tcp://HOST:PORT`
 * with HOST in 127.0.0.0/8 (a dotted quad whose octets are at most 255), `localhost` or `[::1]`.
 *
 * Everything else is not loopback: wildcards (`tcp://*:5555`), `0.0.0.0`, other addresses, interface
 * names (`tcp://eth0:1`), a `tcp://` endpoint without a port, one with a source part
 * (`tcp://10.0.0.1;127.0.0.1:5`, whose host would be ambiguous), other schemes, and anything that is
 * not `scheme://rest`.
 *
 * @param endpoint a ZeroMQ endpoint as given to bind or connect
 * @returns whether traffic to or from it stays on this machine
 */
export function isLoopbackEndpoint(endpoint: string): boolean {
  const m = /^([a-z]+):\/\/(.+)$/.exec(endpoint);
  if (!m) return false;
  const [, scheme, rest] = m;
  if (scheme === 'ipc' || scheme === 'inproc') return true;
  if (scheme !== 'tcp') return false;
  if (rest.includes(';')) return false;
  const colon = rest.lastIndexOf(':');
  if (colon <= 0) return false;
  const host = rest.slice(0, colon);
  const octets = LOOPBACK_V4.exec(host);
  if (octets) return octets.slice(1).every((o) => Number(o) <= 255);
  return host === 'localhost' || host === '[::1]';
}
