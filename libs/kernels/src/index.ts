export { loadNativeKernel, requireNativeKernel, nativeFallbackMessage, ADDON_PATH, type NativeStatus, type LoadOptions } from './load.ts';
export { NativeKernel, TRAINING_STREAMS, MAX_THREADS, type ChainOptions, type ChainResult, type RunOptions, type BlockOptions } from './kernel.ts';
export { createNativeEngine, defaultThreads, type NativeEngineOptions } from './engine.ts';
export type { NativeAddon, AddonChainArgs, AddonChainResult, AddonBlockArgs } from './addon.ts';
export { NATIVE_ENGINE } from './registration.ts';
