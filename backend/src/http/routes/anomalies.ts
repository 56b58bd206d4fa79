/** POST /api/anomalies: anomaly scores of the range asked for (anomaly/answer.ts plans the read and scores). */
import { answerAnomalies, planAnomalyRead } from '../../anomaly/answer';
import { PrescalerError } from '../../errors';
import { answerOnce, queryOptions, readColumns, type ReadDeps } from '../reads';
import { requestSignal, type Handler } from '../route';
import { parseBody, rangeBodySchema, resolveRange } from '../validate';

export function anomaliesHandler(deps: ReadDeps): Handler {
  const { config, models, metrics, now } = deps;
  return async (req, res) => {
    const body = parseBody(rangeBodySchema, req.body);
    const range = resolveRange(body, now(), config.limits.maxPointsPerSeries);
    const detector = models.anomaly;
    if (!detector) {
      throw new PrescalerError(
        'not_ready',
        `no anomaly detector loaded: ${models.anomalyError ?? 'unknown reason'}`
      );
    }
    const extended = planAnomalyRead(detector, range, config.limits.maxPointsPerSeries);
    const opts = queryOptions(req, body);
    const input = await readColumns(deps.source, extended, opts, requestSignal(req, res));
    const key = ['anomalies', range.query, range.start, range.step].join('\0');
    await answerOnce(deps, 'anomalies', res, { key, opts }, detector, input, async () => {
      // The last answer's raw scores, by query, step, grid phase and the range's length in steps (not its
      // start, which moves a step at a time; a 24-hour and a 7-day panel each keep their own).
      const scoresKey = [
        'anomalies',
        range.query,
        range.step,
        ((range.start % range.step) + range.step) % range.step,
        Math.floor((range.end - range.start) / range.step),
      ].join('\0');
      const session = deps.scores.session(scoresKey, detector.detector, {
        reuse: !opts.refresh && !opts.bypass,
        keep: !opts.bypass,
      });
      const { answer, where } = await answerAnomalies(detector, range, input, session);
      if (where) metrics.forestBatches.inc({ where });
      session.done();
      metrics.anomalyPoints.inc({ outcome: 'reused' }, session.stats.reused);
      metrics.anomalyPoints.inc({ outcome: 'scored' }, session.stats.scored);
      return Buffer.from(JSON.stringify(answer));
    });
  };
}
