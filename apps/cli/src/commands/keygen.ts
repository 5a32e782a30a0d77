import { generateKeys } from '@nbm/runtime';
import { UsageError } from '../errors.ts';
import { parseFlags } from '../options.ts';

export async function keygenCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {}, 'keygen', 1);
  if (values.help) {
    console.log('nbm keygen DIR: make the CURVE key pairs of a cluster (coordinator.key/.pub, worker.key/.pub); copy DIR to every host');
    return 0;
  }
  const dir = positionals[0];
  if (!dir) throw new UsageError('name the directory to write the keys to: nbm keygen DIR');
  const keys = generateKeys(dir);
  console.log(`wrote CURVE keys to ${dir} (coordinator ${keys.coordinator.publicKey.slice(0, 8)}…, worker ${keys.worker.publicKey.slice(0, 8)}…); secret keys are mode 0600`);
  return 0;
}
