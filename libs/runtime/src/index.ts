/**
 * @nbm/runtime: the control plane. A coordinator calls methods of worker actors by message, as
 * Ray calls an actor; it knows nothing of what the methods do (train, sample and evaluate register
 * their worker methods with it).
 *
 * Worker side: {@link runWorker} with a record of {@link ActorMethod}s. Coordinator side:
 * {@link Coordinator.bind}, `waitForWorkers`, `welcome`, `call`, `abort`, `drop`, `shutdown`.
 * A coordinator with its local and remote workers: {@link startWorkerPool}. Keys: {@link generateKeys}, {@link loadKeys}.
 * Off loopback the control plane needs CURVE keys ({@link isLoopbackEndpoint}).
 */
export {
  Coordinator,
  type CallOptions,
  type CallResult,
  type CoordinatorEvents,
  type CoordinatorOptions,
  type Refusal,
  type WorkerHandle,
  type WorkerInfo,
} from './coordinator.ts';
export {
  runWorker,
  CallAbortedError,
  type ActorMethod,
  type CallContext,
  type CallReply,
  type Welcome,
  type WorkerOptions,
} from './worker.ts';
export { type LocalWorkerGroup, type WorkerCommand } from './spawn.ts';
export { startWorkerPool, type WorkerPool, type WorkerPoolOptions } from './pool.ts';
export { generateKeys, loadKeys, ringCurveOf } from './keys.ts';
export { type CoordinatorCurve, type KeyPair, type WorkerCurve } from './curve.ts';
export { isLoopbackEndpoint } from '@nbm/protocol';
export type { TypedArray } from './tensors.ts';
export {
  CoordinatorLostError,
  WorkerLostError,
  CallTimeoutError,
  RemoteError,
  RegistrationRefusedError,
  WaitTimeoutError,
  InsecureEndpointError,
  KeyFileError,
} from './errors.ts';
