/**
 * @nbm/kernels: the native CPU kernel, an N-API addon built from native/addon.cc. {@link loadNativeKernel}
 * says whether it loaded here (and why not); {@link createNativeEngine} wraps it as the model's
 * `GradientEngine` (registered as `native` in the engine registry); {@link NativeKernel} is the addon's typed face.
 */
// importing the library registers the native engine in @nbm/model's registry (what `auto` and `--engine native` find)
import './registration.ts';
export { loadNativeKernel, requireNativeKernel, type NativeStatus, type LoadOptions } from './load.ts';
export { NativeKernel, type NativeShard, type ChainOptions, type ChainResult, type RunOptions, type BlockOptions, type ShardOptions, type OutputOptions } from './kernel.ts';
export { createNativeEngine, defaultThreads, type NativeEngineOptions } from './engine.ts';
export type { NativeAddon, AddonChainArgs, AddonChainResult, AddonBlockArgs, AddonShardArgs } from './addon.ts';
