/**
 * What `/api/forecast` and `/api/anomalies` share: their reads of the source (the request's range, through
 * the history cache, `Cache-Control: no-cache` past it) and the answers kept while their inputs are
 * unchanged (answer-memo.ts), with the anomaly answers' raw scores (anomaly/score-memo.ts).
 */
import type { Request, Response } from 'express';
import { ScoreMemo } from '../anomaly/score-memo';
import type { Config } from '../config';
import type { Metrics } from '../metrics';
import type { Models } from '../models';
import type { ColumnSeries } from '../series/types';
import { queryColumns, type QueryOptions, type RangeQuery, type SeriesSource } from '../sources/types';
import { AnswerMemo } from './answer-memo';

export interface ReadDeps {
  config: Config;
  source: SeriesSource;
  models: Models;
  metrics: Metrics;
  now: () => number;
  /** Answers sent again while their inputs are unchanged. */
  answers: AnswerMemo;
  /** The anomaly answers' raw scores, so a refresh scores only new points. */
  scores: ScoreMemo;
}

/** The memos, each holding at most memo.maxMegabytes, with their sizes in the metrics. */
export function readDeps(d: Omit<ReadDeps, 'answers' | 'scores'>): ReadDeps {
  const answers = new AnswerMemo(d.config.memo.maxMegabytes * 1024 * 1024);
  const scores = new ScoreMemo(d.config.memo.maxMegabytes * 1024 * 1024);
  d.metrics.answerMemoSize = () => ({ answers: answers.size.bytes, anomaly_scores: scores.size.bytes });
  return { ...d, answers, scores };
}

/**
 * `Cache-Control: no-cache` reads everything from the upstream, past the history cache (server.ts). A
 * request that leaves `start` to its default is on a grid of its own and would only crowd the cache.
 */
export const queryOptions = (req: Request, body: { start?: number }): QueryOptions => ({
  refresh: /(^|[\s,])no-cache([\s,]|$)/i.test(req.get('cache-control') ?? ''),
  bypass: body.start === undefined,
});

/** The one way these routes read the source: a range, through the history cache. */
export const readColumns = (source: SeriesSource, r: RangeQuery, opts: QueryOptions, signal: AbortSignal) =>
  queryColumns(source, { query: r.query, start: r.start, end: r.end, step: r.step }, signal, opts);

/**
 * Sends the answer kept under `at.key` for this model and these inputs, or computes, keeps and sends it.
 * `no-cache` computes afresh; a request without `start` (on a grid of its own, now − 24 h) is neither looked
 * up nor kept.
 */
export async function answerOnce(
  deps: Pick<ReadDeps, 'answers' | 'metrics'>,
  route: string,
  res: Response,
  at: { key: string; opts: QueryOptions },
  model: object,
  inputs: readonly ColumnSeries[],
  compute: () => Promise<Buffer> | Buffer
): Promise<void> {
  const { refresh, bypass } = at.opts;
  const kept = refresh || bypass ? undefined : deps.answers.get(at.key, model, inputs);
  deps.metrics.answerLookups.inc({ route, outcome: kept ? 'reused' : 'computed' });
  const body = kept ?? (await compute());
  if (!kept && !bypass) deps.answers.set(at.key, model, inputs, body);
  res.type('application/json').send(body);
}
