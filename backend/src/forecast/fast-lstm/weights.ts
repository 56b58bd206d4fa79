/** The network's architecture and weights, read once from a loaded tfjs model. */
import type { tf } from '../tf';
import { UnsupportedModelError, type ActivationName, type LayerSpec, type NetworkSpec } from './types';

const ACTIVATIONS: Record<string, ActivationName> = {
  linear: 'linear',
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  hardsigmoid: 'hardSigmoid',
  relu: 'relu',
};

function activationOf(layer: string, raw: unknown): ActivationName {
  const name =
    ACTIVATIONS[
      String(raw ?? 'linear')
        .replace(/_/g, '')
        .toLowerCase()
    ];
  if (!name) throw new UnsupportedModelError(`${layer}: activation ${String(raw)} is not implemented`);
  return name;
}

/** Reads the architecture and a copy of the weights; throws UnsupportedModelError for anything else. */
export function extractNetwork(model: tf.LayersModel): NetworkSpec {
  if (model.getClassName() !== 'Sequential') {
    throw new UnsupportedModelError(
      `a ${model.getClassName()} model (only Sequential chains are implemented)`
    );
  }
  const inShape = model.inputs[0].shape;
  if (inShape.length !== 3 || typeof inShape[1] !== 'number' || typeof inShape[2] !== 'number') {
    throw new UnsupportedModelError(`input shape [${inShape}] is not [batch, timesteps, features]`);
  }
  const timesteps = inShape[1];
  const features = inShape[2];
  let dim = features;
  let sequence = true; // the data flowing between layers is still batch × time × dim
  const layers: LayerSpec[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, unknown>;
    const weights = layer.getWeights().map((t) => t.dataSync() as Float32Array);
    if (cls === 'Dropout' || cls === 'InputLayer') continue; // identity at inference
    if (cls === 'LSTM') {
      if (!sequence)
        throw new UnsupportedModelError(`${layer.name}: an LSTM after a layer that dropped the time axis`);
      for (const flag of ['stateful', 'goBackwards', 'returnState'] as const) {
        if (cfg[flag]) throw new UnsupportedModelError(`${layer.name}: ${flag} is not implemented`);
      }
      const units = cfg.units as number;
      const G = 4 * units;
      const [kx, kh, b] = weights;
      if (kx?.length !== dim * G || kh?.length !== units * G) {
        throw new UnsupportedModelError(`${layer.name}: unexpected kernel shapes`);
      }
      const kernel = new Float32Array((dim + units) * G);
      kernel.set(kx, 0);
      kernel.set(kh, dim * G);
      layers.push({
        kind: 'lstm',
        units,
        inputDim: dim,
        activation: activationOf(layer.name, cfg.activation ?? 'tanh'),
        recurrentActivation: activationOf(layer.name, cfg.recurrentActivation ?? 'hardSigmoid'),
        returnSequences: Boolean(cfg.returnSequences),
        kernel,
        bias: cfg.useBias === false ? new Float32Array(G) : Float32Array.from(b),
      });
      dim = units;
      sequence = Boolean(cfg.returnSequences);
    } else if (cls === 'Dense') {
      const units = cfg.units as number;
      const [k, b] = weights;
      if (k?.length !== dim * units)
        throw new UnsupportedModelError(`${layer.name}: unexpected kernel shape`);
      layers.push({
        kind: 'dense',
        units,
        inputDim: dim,
        activation: activationOf(layer.name, cfg.activation),
        kernel: Float32Array.from(k),
        bias: cfg.useBias === false ? new Float32Array(units) : Float32Array.from(b),
      });
      dim = units;
    } else {
      throw new UnsupportedModelError(`${layer.name}: layer class ${cls} is not implemented`);
    }
  }
  if (layers.length === 0) throw new UnsupportedModelError('the model has no layers');
  return { timesteps, features, layers, outputSize: sequence ? timesteps * dim : dim };
}
