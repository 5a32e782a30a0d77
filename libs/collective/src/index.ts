/**
 * @nbm/collective: the data plane of distributed training. A ring of worker processes all-reduces
 * gradients and broadcasts state over ZeroMQ ({@link Ring}); fixed-point conversion makes gradient
 * sums exact and independent of order and world size ({@link toFixed}, {@link fixedSum}, {@link meanFromFixed}).
 */
export { DEFAULT_CHUNK_BYTES, Ring, type AllReduceOptions, type CollectiveCallOptions, type CollectiveTag, type CurveKeys, type RingOptions, type RingPlacement } from './ring.ts';
export {
  CollectiveAbortedError,
  CollectiveError,
  CollectiveMismatchError,
  CollectiveProtocolError,
  CollectiveTimeoutError,
  CollectiveTransportError,
  CollectiveUsageError,
} from './errors.ts';
export { FIXED_MAX, FixedPointOverflowError, NonFiniteError, PACKED_BYTES, addFixedInto, addPackedInto, chooseExponent, maxAbs, packFixed, toFixed, unpackFixed } from './fixed-point.ts';
export { gradientLayout, blockMaxAbs, carriedMaxAbs, fixedExponents, fixedSum, floatSum, meanFromFixed, meanFromFixedRange, meanFromFloat, tensorPieces, type GradientLayout, type BlockSums } from './block-sums.ts';
export { collectReceivedFrames } from './frames-gc.ts';
export { registerCombineAccelerator, type CombineAccelerator, type CombineAcceleratorProvider, type ReduceOp } from './reduce.ts';
