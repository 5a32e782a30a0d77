/**
 * The one place nbm imports TensorFlow.js. `@tensorflow/tfjs` (not bare tfjs-core) because it registers the
 * gradient functions that `tf.grads` needs; the wasm backend registers itself on import.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

// PROD silences tfjs's console advice about tfjs-node (we report the backend choice ourselves) and skips
// debug-only checks.
tf.env().set('PROD', true);

export { tf };
export type Tensor = tf.Tensor;
