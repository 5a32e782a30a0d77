/**
 * CURVE key sets of the two roles, their validation, and the public key that belongs to a secret key.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { curveKeyProblem, z85Decode, z85Encode } from './z85.ts';

/** The coordinator's CURVE keys: it is the CURVE server and admits only the listed client keys. */
export interface CoordinatorCurve {
  publicKey: string;
  secretKey: string;
  /** Public keys (Z85) of the workers allowed to connect; any other key fails the handshake. */
  allowedClients: string[];
}

/** A worker's CURVE keys: it is a CURVE client of the coordinator whose public key is `serverKey`. */
export interface WorkerCurve {
  publicKey: string;
  secretKey: string;
  serverKey: string;
}

/** A CURVE key pair (Z85). */
export interface KeyPair {
  publicKey: string;
  secretKey: string;
}

// PKCS#8 DER header of a raw X25519 private key; CurveZMQ keys are X25519 keys.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The public key (Z85) that belongs to a secret key (Z85), by X25519 scalar multiplication. */
export function publicKeyOf(secretKey: string): string {
  const der = Buffer.concat([X25519_PKCS8_PREFIX, z85Decode(secretKey)]);
  const jwk = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' });
  return z85Encode(Buffer.from(jwk.x as string, 'base64url'));
}

/** Throws a TypeError naming the first malformed key of a coordinator key set. */
export function checkCoordinatorCurve(curve: CoordinatorCurve): void {
  checkPair(curve, 'coordinator');
  if (!Array.isArray(curve.allowedClients) || curve.allowedClients.length === 0) {
    throw new TypeError('curve.allowedClients: list the public key of at least one worker (worker.pub of `nbm keygen`)');
  }
  curve.allowedClients.forEach((k, i) => checkKey(k, `curve.allowedClients[${i}]`));
}

/** Throws a TypeError naming the first malformed key of a worker key set. */
export function checkWorkerCurve(curve: WorkerCurve): void {
  checkPair(curve, 'worker');
  checkKey(curve.serverKey, 'curve.serverKey');
}

function checkPair(pair: KeyPair, role: string): void {
  checkKey(pair.publicKey, 'curve.publicKey');
  checkKey(pair.secretKey, 'curve.secretKey');
  if (publicKeyOf(pair.secretKey) !== pair.publicKey) {
    throw new TypeError(`curve: the ${role}'s publicKey does not belong to its secretKey`);
  }
}

function checkKey(key: unknown, what: string): void {
  const problem = curveKeyProblem(key);
  if (problem) throw new TypeError(`${what}: ${problem}`);
}
