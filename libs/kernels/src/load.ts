import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeAddon } from './addon.ts';
import { NativeKernel } from './kernel.ts';

/** Where the install script puts the addon, and its note on how the build went. */
export const ADDON_PATH = fileURLToPath(new URL('../build/Release/nbm_kernels.node', import.meta.url));

export type NativeStatus = { readonly ok: true; readonly kernel: NativeKernel } | { readonly ok: false; readonly reason: string };

export interface LoadOptions {
  /** behave as if the addon were missing (tests, and checking the fallback); a string is used as the reason */
  readonly simulateFailure?: boolean | string;
  /** load the addon from this path instead of build/Release/nbm_kernels.node */
  readonly path?: string;
  /** instruction-set tier to use; default: NBM_NATIVE_TIER, else the best this CPU runs */
  readonly tier?: string;
}

const loaded = new Map<string, NativeStatus>();

/**
 * Loads the native kernel. Never throws: `{ ok: false, reason }` says in one phrase why it is unavailable
 * (not built and why, fails to load, disabled). Environment: NBM_NATIVE_DISABLE=1 disables it;
 * NBM_NATIVE_TIER=avx512|avx2|generic picks the instruction-set tier.
 */
export function loadNativeKernel(options: LoadOptions = {}): NativeStatus {
  if (options.simulateFailure) {
    const why = typeof options.simulateFailure === 'string' ? options.simulateFailure : 'simulated failure';
    return { ok: false, reason: why };
  }
  if (process.env.NBM_NATIVE_DISABLE === '1') return { ok: false, reason: 'disabled by NBM_NATIVE_DISABLE=1' };
  const path = options.path ?? ADDON_PATH;
  const tier = options.tier ?? (process.env.NBM_NATIVE_TIER || undefined);
  const cacheKey = `${path}\0${tier ?? ''}`;
  let status = loaded.get(cacheKey);
  if (!status) {
    status = load(path, tier);
    loaded.set(cacheKey, status);
  }
  return status;
}

function load(path: string, tier: string | undefined): NativeStatus {
  if (!existsSync(path)) return { ok: false, reason: notBuiltReason(path) };
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (e) {
    return { ok: false, reason: `the addon at ${path} does not load: ${(e as Error).message.split('\n')[0]}` };
  }
  if (typeof addon?.info !== 'function' || typeof addon.blockGradients !== 'function') {
    return { ok: false, reason: `${path} is not the nbm kernels addon` };
  }
  const tiers = addon.info().tiers;
  if (tier !== undefined && !tiers.includes(tier)) {
    return { ok: false, reason: `NBM_NATIVE_TIER=${tier} is not available on this CPU (available: ${tiers.join(', ')})` };
  }
  return { ok: true, kernel: new NativeKernel(addon, tier ?? tiers[0]) };
}

/** Why the addon file is missing: the install script's note (build/install-status.json) when there is one. */
function notBuiltReason(path: string): string {
  const statusPath = join(dirname(dirname(path)), 'install-status.json');
  if (existsSync(statusPath)) {
    try {
      const s = JSON.parse(readFileSync(statusPath, 'utf8')) as { ok?: boolean; reason?: string };
      if (s.ok === false && s.reason) return `not built: ${s.reason}`;
    } catch {
      // an unreadable note says nothing more than its absence
    }
  }
  return `not built (no ${path}; build it with \`npm run build -w @nbm/kernels\`)`;
}

/** The one line to print when training falls back to tfjs. */
export function nativeFallbackMessage(reason: string): string {
  return `nbm: native CPU kernel unavailable (${reason}); training runs on the tfjs path`;
}

/** The kernel, or an Error that says why it is unavailable. */
export function requireNativeKernel(options: LoadOptions = {}): NativeKernel {
  const s = loadNativeKernel(options);
  if (!s.ok) throw new Error(`the native CPU kernel is not available: ${s.reason}`);
  return s.kernel;
}
