/**
 * The rule that every endpoint but a loopback one needs CURVE. Which endpoints are loopback is
 * @nbm/protocol's {@link isLoopbackEndpoint}, the same rule the ring follows.
 */
import { isLoopbackEndpoint } from '@nbm/protocol';
import { InsecureEndpointError } from './errors.ts';

/**
 * Throws {@link InsecureEndpointError} when `endpoint` is not loopback and no CURVE keys are given:
 * the control plane is closed by default.
 */
export function requireLoopbackOrCurve(endpoint: string, hasCurve: boolean, action: 'bind' | 'connect'): void {
  if (!hasCurve && !isLoopbackEndpoint(endpoint)) throw new InsecureEndpointError(endpoint, action);
}
