import { join } from 'node:path';

/** The nbm command's entry script (what spawned workers run). */
export const NBM_BIN = join(import.meta.dirname, '..', 'bin', 'nbm.js');
