/**
 * @nbm/backend: tfjs, one import for every library ({@link tf}), and the choice of its backend
 * ({@link selectBackend}: libtensorflow where tfjs-node(-gpu) installed, else the faster of wasm and cpu, or the
 * one asked for), with why it was chosen.
 */
export { tf, type Tensor } from './tf.ts';
export { selectBackend, BackendUnavailableError, type BackendChoice, type BackendName, type BackendRequest } from './select.ts';
