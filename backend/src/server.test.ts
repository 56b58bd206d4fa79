import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { fitDetector } from './anomaly/detector';
import type { FeatureConfig } from './anomaly/features';
import { saveAnomalyModel, type AnomalyMetadata } from './anomaly/index';
import { loadModels } from './server';

const STEP = 600;

function fitted(cfg: FeatureConfig) {
  const values = Array.from({ length: 400 }, (_, i) => 2 + Math.sin(i / 23) + 0.1 * Math.sin(i * 1.7));
  const residuals = values.map((v, i) => (i ? v - values[i - 1] : NaN));
  return fitDetector([{ name: 's', step: STEP, values, residuals }], { features: cfg, nTrees: 5, seed: 1 })
    .detector;
}

function meta(cfg: FeatureConfig): Omit<AnomalyMetadata, 'forestSha256'> {
  return {
    id: 'prescaler-iforest',
    version: 't',
    createdAt: '2026-01-01T00:00:00Z',
    algorithm: 'test',
    training: { method: 'test', step: '600', datasets: [], featureRows: 0 },
    features: cfg,
    forest: { nTrees: 5, sampleSize: 256, heightLimit: 8, seed: 1 },
    threshold: { value: 0.7, policy: { kind: 'fixed', threshold: 0.7 } },
    onsetSeconds: 0,
  };
}

describe('loadModels', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-models-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const logger = pino({ level: 'silent' });

  it('serves no anomaly detector that needs forecast residuals, and says why', async () => {
    const cfg: FeatureConfig = { window: 24, shortWindow: 3, names: ['diff', 'residual'] };
    saveAnomalyModel(path.join(dir, 'anomaly'), fitted(cfg), meta(cfg));
    const models = await loadModels(dir, logger);
    expect(models.anomaly).toBeUndefined();
    expect(models.anomalyError).toMatch(/forest\.json: fitted with the "residual" feature/);
    // The forecaster is missing here: its own error, independent of the detector's.
    expect(models.forecasterError).toMatch(/forecaster/);
  });

  it('serves one fitted on the series alone', async () => {
    const cfg: FeatureConfig = { window: 24, shortWindow: 3, names: ['diff', 'zscore'] };
    saveAnomalyModel(path.join(dir, 'anomaly'), fitted(cfg), meta(cfg));
    const models = await loadModels(dir, logger);
    expect(models.anomalyError).toBeUndefined();
    expect(models.anomaly?.detector.features.names).toEqual(['diff', 'zscore']);
  });
});
