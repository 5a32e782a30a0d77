export { philox4x32 } from './philox.ts';
export {
  Stream,
  type StreamId,
  type ChainStreamIds,
  type RandomKey,
  assertSeed,
  fillBits,
  fillUniform,
  fillNormal,
  unitFromBits,
  openUnitFromBits,
  permutation,
} from './streams.ts';
