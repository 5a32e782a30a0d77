/**
 * @nbm/random: Philox4x32-10 ({@link philox4x32}) and the keyed streams every random draw of nbm comes from
 * ({@link Stream}): a draw is a pure function of (seed, stream, step, example, Gibbs step), so it does not depend
 * on which process or in which order it is drawn.
 */
export { philox4x32 } from './philox.ts';
export { Stream, type ChainStreamIds, type RandomKey, assertSeed, fillBits, fillUniform, fillNormal, unitFromBits, openUnitFromBits, permutation } from './streams.ts';
export { registerFillAccelerator, type FillAccelerator, type FillAcceleratorProvider } from './streams.ts';
