/** What the fast forward pass runs: a network's architecture and weights as plain data (no tensors). */

export type ActivationName = 'linear' | 'tanh' | 'sigmoid' | 'hardSigmoid' | 'relu';

export interface LstmLayerSpec {
  kind: 'lstm';
  units: number;
  inputDim: number;
  activation: ActivationName;
  recurrentActivation: ActivationName;
  returnSequences: boolean;
  /** (inputDim + units) × 4·units: the input kernel's rows, then the recurrent kernel's; gates i, f, c, o. */
  kernel: Float32Array;
  /** 4·units */
  bias: Float32Array;
}

export interface DenseLayerSpec {
  kind: 'dense';
  units: number;
  inputDim: number;
  activation: ActivationName;
  /** inputDim × units */
  kernel: Float32Array;
  bias: Float32Array;
}

export type LayerSpec = LstmLayerSpec | DenseLayerSpec;

/** Everything the forward pass needs, read from a tfjs model: plain data, no tensors. */
export interface NetworkSpec {
  timesteps: number;
  features: number;
  layers: LayerSpec[];
  /** Values per sample of the output (units of the last layer, × timesteps if it returns sequences). */
  outputSize: number;
}

/** The model holds something this forward pass does not implement; callers fall back to tfjs. */
export class UnsupportedModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedModelError';
  }
}
