/**
 * @nbm/checkpoint: safetensors files for NBM checkpoints, atomic file replacement, and one-writer directory locks.
 * No tfjs: tensors are plain typed arrays.
 */
export { CheckpointError, type CheckpointErrorKind } from './errors.ts';
export { type Dtype, type TensorData } from './dtypes.ts';
export { acquireLock, lockDirectory, DIR_LOCK, LockedError, type Lock, type LockOptions } from './lock.ts';
export { atomicWriteFile, atomicWriteFileSync, atomicWriteWith, isAtomicTempName } from './atomic.ts';
export { CHECKSUM_KEY, decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors, type SafetensorsContents, type TensorInput, type TensorRecord } from './safetensors.ts';
export {
  CHECKPOINT_FORMAT,
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointState,
  type ExpectedTensor,
  type OptimizerState,
  type ParamTensor,
  type RngState,
} from './nbm.ts';
