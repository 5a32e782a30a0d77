/**
 * @nbm/collective: the data plane of distributed training. A ring of worker processes all-reduces
 * gradients and broadcasts state over ZeroMQ ({@link Ring}); fixed-point conversion makes gradient
 * sums exact and independent of order and world size ({@link toFixed}, {@link fromFixed}).
 */
export {
  Ring,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_TIMEOUT_MS,
  type AllReduceOptions,
  type CollectiveCallOptions,
  type CollectiveTag,
  type CurveKeys,
  type RingOptions,
  type RingPlacement,
} from './ring.ts';
export {
  CollectiveAbortedError,
  CollectiveError,
  CollectiveMismatchError,
  CollectiveProtocolError,
  CollectiveTimeoutError,
  CollectiveTransportError,
  CollectiveUsageError,
} from './errors.ts';
export {
  FIXED_BUDGET,
  FIXED_MAX,
  FixedPointOverflowError,
  NonFiniteError,
  addFixedInto,
  chooseExponent,
  fromFixed,
  maxAbs,
  toFixed,
} from './fixed-point.ts';
export { segmentRange, chunkRanges, type Range } from './partition.ts';
export { gradientLayout, blockMaxAbs, carriedMaxAbs, fixedExponents, fixedSum, floatSum, meanFromFixed, meanFromFloat, type GradientLayout, type BlockSums } from './block-sums.ts';
export type { ReduceOp, ReduceBuffer } from './reduce.ts';
