/**
 * CURVE key files (`nbm keygen DIR`, then `--keys DIR`).
 *
 * A key directory holds two key pairs: the coordinator's and the one all workers share.
 * `coordinator.key` and `worker.key` (secret keys, mode 0600) and `coordinator.pub` and `worker.pub`
 * (public keys, mode 0644). Each file is one Z85 line; lines starting with `#` are comments.
 * A coordinator host needs `coordinator.key`, `coordinator.pub` and `worker.pub`; a worker host
 * needs `worker.key`, `worker.pub` and `coordinator.pub`, so no host holds the other role's secret.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { curveKeyPair } from 'zeromq';
import { publicKeyOf, type CoordinatorCurve, type KeyPair, type WorkerCurve } from './curve.ts';
import { KeyFileError } from './errors.ts';
import { curveKeyProblem } from './z85.ts';

/** Names of the files in a key directory. */
export const KEY_FILES = {
  coordinator: { secret: 'coordinator.key', public: 'coordinator.pub' },
  worker: { secret: 'worker.key', public: 'worker.pub' },
} as const;

/** A role whose keys {@link loadKeys} reads. */
export type KeyRole = 'coordinator' | 'worker';

const HINT = 'make keys with `nbm keygen DIR`';

/**
 * Makes the coordinator's and the workers' key pairs and writes them into `dir` (created, mode 0700,
 * when missing): secret keys with mode 0600, public keys with mode 0644.
 *
 * @throws KeyFileError when any of the four files exists already (nothing is written then), or a
 *   file cannot be written.
 */
export function generateKeys(dir: string): { coordinator: KeyPair; worker: KeyPair } {
  const files = Object.values(KEY_FILES).flatMap((f) => [f.secret, f.public]);
  const existing = files.filter((f) => existsSync(join(dir, f)));
  if (existing.length > 0) {
    throw new KeyFileError(dir, `refusing to overwrite existing keys (${existing.join(', ')}); remove them first or choose another directory`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = { coordinator: curveKeyPair(), worker: curveKeyPair() };
  for (const role of ['coordinator', 'worker'] as const) {
    writeKey(join(dir, KEY_FILES[role].secret), keys[role].secretKey, `CURVE secret key of the ${role}: keep it private`, 0o600);
    writeKey(join(dir, KEY_FILES[role].public), keys[role].publicKey, `CURVE public key of the ${role}`, 0o644);
  }
  return keys;
}

function writeKey(path: string, key: string, comment: string, mode: number): void {
  try {
    // 'wx' fails if the file appeared since the check: never overwrite
    writeFileSync(path, `# nbm ${comment}\n${key}\n`, { flag: 'wx', mode });
    chmodSync(path, mode); // the umask may have cleared bits of `mode`
  } catch (err) {
    throw new KeyFileError(path, `cannot write the key: ${(err as Error).message}`);
  }
}

/** Loads what the coordinator needs from `dir`: its key pair, and the workers' public key as the only allowed client. */
export function loadKeys(dir: string, role: 'coordinator'): CoordinatorCurve;
/** Loads what a worker needs from `dir`: the workers' key pair and the coordinator's public key as the server key. */
export function loadKeys(dir: string, role: 'worker'): WorkerCurve;
/**
 * Reads the key files one role needs (see the module comment).
 *
 * @throws KeyFileError naming the file when one is missing, unreadable, not exactly one Z85 key, or
 *   when a public key does not belong to its secret key.
 */
export function loadKeys(dir: string, role: KeyRole): CoordinatorCurve | WorkerCurve;
export function loadKeys(dir: string, role: KeyRole): CoordinatorCurve | WorkerCurve {
  if (role !== 'coordinator' && role !== 'worker') throw new TypeError(`loadKeys: role must be 'coordinator' or 'worker', got ${JSON.stringify(role)}`);
  const other: KeyRole = role === 'coordinator' ? 'worker' : 'coordinator';
  const secretKey = readKey(join(dir, KEY_FILES[role].secret));
  const publicKey = readKey(join(dir, KEY_FILES[role].public));
  if (publicKeyOf(secretKey) !== publicKey) {
    throw new KeyFileError(join(dir, KEY_FILES[role].public), `does not belong to ${KEY_FILES[role].secret} (the files come from different keygen runs)`);
  }
  const peerKey = readKey(join(dir, KEY_FILES[other].public));
  return role === 'coordinator' ? { publicKey, secretKey, allowedClients: [peerKey] } : { publicKey, secretKey, serverKey: peerKey };
}

function readKey(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new KeyFileError(path, code === 'ENOENT' ? `missing (${HINT})` : `cannot read: ${(err as Error).message}`);
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length !== 1) throw new KeyFileError(path, `expected exactly one key line, found ${lines.length} (${HINT})`);
  const problem = curveKeyProblem(lines[0]);
  if (problem) throw new KeyFileError(path, `${problem} (${HINT})`);
  return lines[0];
}

/**
 * The CURVE keys of a worker's ring links (the data plane between workers). Every worker holds the same key pair
 * (keygen's worker pair), so each link's server is a peer with that pair, and its server key is the pair's
 * public key.
 */
export function ringCurveOf(keys: WorkerCurve): { publicKey: string; secretKey: string; serverKey: string } {
  return { publicKey: keys.publicKey, secretKey: keys.secretKey, serverKey: keys.publicKey };
}
