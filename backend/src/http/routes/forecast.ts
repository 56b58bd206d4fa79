/** POST /api/forecast: the range asked for and its forecast (forecast/answer.ts plans, reads and runs the model). */
import { PrescalerError } from '../../errors';
import { forecastHorizon, planForecast, readForecast } from '../../forecast/answer';
import { forecastBody } from '../forecast-body';
import { answerOnce, queryOptions, readColumns, type ReadDeps } from '../reads';
import { requestSignal, type Handler } from '../route';
import { forecastBodySchema, parseBody, resolveRange } from '../validate';

export function forecastHandler(deps: ReadDeps): Handler {
  const { config, models, now } = deps;
  const maxPoints = config.limits.maxPointsPerSeries;
  return async (req, res) => {
    const body = parseBody(forecastBodySchema, req.body);
    const range = resolveRange(body, now(), maxPoints);
    const forecaster = models.forecaster;
    if (!forecaster) {
      throw new PrescalerError(
        'not_ready',
        `no forecaster loaded: ${models.forecasterError ?? 'unknown reason'}`
      );
    }
    const horizon = forecastHorizon(forecaster, body.horizon);
    const signal = requestSignal(req, res);
    const plan = planForecast(forecaster, range, { horizon, maxPoints });
    const opts = queryOptions(req, body);
    const read = await readForecast(
      forecaster,
      plan,
      (r) => readColumns(deps.source, r, opts, signal),
      (r) => resolveRange(r, now(), maxPoints)
    );
    const model = `${forecaster.metadata.id}@${forecaster.metadata.version}`;
    // The answer depends on these and on the series read (compared by the memo), not on `end` itself.
    const key = ['forecast', read.shape, range.query, range.start, range.step, horizon].join('\0');
    await answerOnce(deps, 'forecast', res, { key, opts }, forecaster, read.inputs, async () =>
      forecastBody(await read.answer(), model)
    );
  };
}
