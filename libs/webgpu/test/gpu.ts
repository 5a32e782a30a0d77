import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GpuUnavailableError, openGpu, type GpuHandle, type OpenGpuOptions } from '../src/index.ts';

/** Debian's chromium package ships SwiftShader, a software Vulkan driver, here (.ci/run installs it). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** CI must have a GPU adapter (SwiftShader at least): there a missing adapter fails the tests instead of skipping them. */
export const REQUIRE_GPU = process.env.CI === 'true';

/**
 * Points the Vulkan loader at SwiftShader unless the environment already names drivers (VK_ICD_FILENAMES or
 * VK_DRIVER_FILES: set one of them to test on a real GPU). Dawn reads it at each adapter request. Returns
 * what undoes it.
 */
export function useSwiftShaderUnlessSet(env: NodeJS.ProcessEnv = process.env): () => void {
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || !existsSync(SWIFTSHADER_ICD)) return () => {};
  env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return () => {
    delete env.VK_ICD_FILENAMES;
  };
}

/**
 * Opens a GPU for a mocha suite: `before` opens it (skipping the suite with a printed reason when there is no
 * adapter, failing instead when CI=true), `after` closes it. Call inside `describe`; read `.handle` in tests.
 */
export function suiteGpu(options: OpenGpuOptions = {}): { readonly handle: GpuHandle; readonly device: GPUDevice } {
  let handle: GpuHandle | null = null;
  let restoreEnv = () => {};
  before(async function () {
    restoreEnv = useSwiftShaderUnlessSet();
    try {
      handle = await openGpu({ allowSoftware: true, ...options });
    } catch (e) {
      if (e instanceof GpuUnavailableError && !REQUIRE_GPU) {
        console.log(`      skipped: ${e.message}`);
        this.skip();
      }
      throw e;
    }
  });
  after(() => {
    handle?.close();
    handle = null;
    restoreEnv(); // the other suites of a whole-repo mocha run see the environment they started with
  });
  return {
    get handle() {
      if (!handle) throw new Error('no GPU open (before hook did not run)');
      return handle;
    },
    get device() {
      return this.handle.device;
    },
  };
}

/** Skips the current test (or fails it on CI) when SwiftShader is not installed. */
export function requireSwiftShader(ctx: Mocha.Context): void {
  if (existsSync(SWIFTSHADER_ICD)) return;
  if (REQUIRE_GPU) throw new Error(`${SWIFTSHADER_ICD} is missing: .ci/run installs chromium for it`);
  console.log(`      skipped: ${SWIFTSHADER_ICD} is missing (apt-get install chromium)`);
  ctx.skip();
}

const FIXTURE = fileURLToPath(new URL('./fixtures/open-gpu.ts', import.meta.url));

/** What the child fixture printed, and how it ended. */
export interface ChildResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly result: Record<string, unknown> | null;
}

/**
 * Runs test/fixtures/open-gpu.ts in a fresh Node with the given environment (set before Dawn loads) and options;
 * the child must exit by itself (it never calls process.exit), within `timeoutMs`.
 */
export function runChild(env: Record<string, string | undefined>, args: Record<string, unknown>, timeoutMs = 20_000): ChildResult {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.VK_ICD_FILENAMES;
  delete childEnv.VK_DRIVER_FILES;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  const r = spawnSync(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(args)], {
    env: childEnv,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  return { status: r.status, signal: r.signal, stderr: r.stderr, result: line ? JSON.parse(line.slice(7)) : null };
}
