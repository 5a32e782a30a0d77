export { tf, type Tensor } from './tf.ts';
export { selectBackend, BackendUnavailableError, type BackendChoice, type BackendName, type BackendRequest } from './select.ts';
