/** TensorFlow.js on the wasm backend (tfjs-node cannot be installed here; wasm has every LSTM kernel). */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

let ready: Promise<typeof tf> | undefined;

export function initTf(): Promise<typeof tf> {
  ready ??= (async () => {
    // tfjs prints a hint to use tfjs-node on every start in Node; it does not apply (see above).
    tf.env().set('IS_NODE', true);
    if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js wasm backend failed to initialise');
    await tf.ready();
    return tf;
  })();
  return ready;
}

export { tf };
