import { tf } from './tf.ts';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendRequest = BackendName | 'auto';

/** What was chosen and why: printed at the start of a run and recorded in its config.json. */
export interface BackendChoice {
  readonly name: BackendName;
  /** the tfjs backend name actually active ('tensorflow', 'wasm' or 'cpu') */
  readonly tfjsBackend: string;
  /** the package that provided the tensorflow backend, if any */
  readonly package?: string;
  readonly reason: string;
  /** ms per probe run of each pure backend, when auto measured them */
  readonly probeMs?: Readonly<Record<string, number>>;
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/**
 * Loads libtensorflow bindings if installed. They are optional dependencies (their install downloads
 * libtensorflow, which fails offline), so absence is normal: the error is kept to explain the choice.
 */
async function loadTensorflow(): Promise<{ package: string } | { error: string }> {
  const errors: string[] = [];
  if (process.env.NBM_DISABLE_TFJS_NODE === '1') return { error: 'disabled by NBM_DISABLE_TFJS_NODE=1' };
  for (const pkg of NATIVE_PACKAGES) {
    try {
      await import(pkg);
      if (tf.findBackend('tensorflow')) return { package: pkg };
      errors.push(`${pkg} loaded but registered no 'tensorflow' backend`);
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0];
      errors.push(`${pkg}: ${/Cannot find (package|module)/.test(msg) ? 'not installed' : msg}`);
    }
  }
  return { error: errors.join('; ') };
}

/**
 * A short piece of the NBM's hot path (a batched matrix–vector product with per-example weight matrices, as in
 * the Gibbs chain) timed on the active backend; the median of 3 runs after a warm-up.
 */
function probe(): number {
  const y = tf.randomUniform([16, 1, 784]);
  const w = tf.randomUniform([16, 784, 64]);
  const times: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    for (let j = 0; j < 4; j++) tf.tidy(() => tf.matMul(y, w).dataSync());
    times.push(performance.now() - t0);
  }
  tf.dispose([y, w]);
  times.shift();
  times.sort((a, b) => a - b);
  return times[1];
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
}

/**
 * Chooses and activates the tfjs backend. `auto` takes tensorflow (tfjs-node-gpu, then tfjs-node) if it loads,
 * else whichever of wasm and cpu runs the probe faster on this machine.
 */
export async function selectBackend(request: BackendRequest): Promise<BackendChoice> {
  if (request === 'tensorflow' || request === 'auto') {
    const loaded = await loadTensorflow();
    if ('package' in loaded) {
      await activate('tensorflow');
      return { name: 'tensorflow', tfjsBackend: tf.getBackend(), package: loaded.package, reason: `${request === 'auto' ? 'auto: ' : ''}${loaded.package} loaded` };
    }
    if (request === 'tensorflow') {
      throw new Error(
        `--backend tensorflow: libtensorflow bindings are not available (${loaded.error}). ` +
          'Install @tensorflow/tfjs-node-gpu (GPU) or @tensorflow/tfjs-node (CPU) on a machine that can download libtensorflow, or use --backend auto.',
      );
    }
    const probeMs: Record<string, number> = {};
    for (const name of ['wasm', 'cpu']) {
      await activate(name);
      probeMs[name] = probe();
    }
    const best = probeMs.wasm <= probeMs.cpu ? 'wasm' : 'cpu';
    await activate(best);
    return {
      name: best,
      tfjsBackend: tf.getBackend(),
      reason: `auto: tensorflow unavailable (${loaded.error}); ${best} was faster (probe ${probeMs.wasm.toFixed(1)} ms wasm vs ${probeMs.cpu.toFixed(1)} ms cpu)`,
      probeMs,
    };
  }
  if (request !== 'wasm' && request !== 'cpu') {
    throw new Error(`unknown backend '${String(request)}': expected auto, tensorflow, wasm or cpu`);
  }
  await activate(request);
  return { name: request, tfjsBackend: tf.getBackend(), reason: `requested with --backend ${request}` };
}
