import { tf } from './tf.ts';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu' | 'webgpu';
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

/** A requested tfjs backend cannot run here; the message says why and what to do. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

/**
 * Makes tfjs's webgpu backend loadable in Node: Dawn's bindings (npm `webgpu`) as `navigator.gpu` (Vulkan on Linux)
 * and the WebGPU constants as globals, then the backend package. Returns why not, or null when an adapter answers.
 */
async function loadTfjsWebgpu(): Promise<string | null> {
  try {
    const dawn = await import('webgpu');
    const g = globalThis as Record<string, unknown>;
    for (const [k, v] of Object.entries(dawn.globals as Record<string, unknown>)) if (!(k in g)) g[k] = v;
    const nav = (g.navigator ??= {}) as { gpu?: GPU };
    nav.gpu ??= dawn.create(process.platform === 'linux' ? ['backend=vulkan'] : []);
    const adapter = await nav.gpu.requestAdapter();
    if (!adapter) return 'Dawn found no WebGPU adapter (a Vulkan driver: the GPU\'s, or SwiftShader with VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json)';
    await import('@tensorflow/tfjs-backend-webgpu');
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

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
      throw new BackendUnavailableError(
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
  if (request === 'webgpu') {
    const why = await loadTfjsWebgpu();
    if (why) throw new BackendUnavailableError(`--backend webgpu: tfjs's webgpu backend cannot start: ${why}`);
    await activate('webgpu');
    return { name: 'webgpu', tfjsBackend: tf.getBackend(), reason: 'requested with --backend webgpu (tfjs on WebGPU through Dawn; it reads results back asynchronously)' };
  }
  if (request !== 'wasm' && request !== 'cpu') {
    throw new Error(`unknown backend '${String(request)}': expected auto, tensorflow, wasm, cpu or webgpu`);
  }
  await activate(request);
  return { name: request, tfjsBackend: tf.getBackend(), reason: `requested with --backend ${request}` };
}
