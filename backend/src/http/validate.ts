/** Request bodies: zod schemas and the conversion of their times and durations to seconds. */
import { z } from 'zod';
import { DEFAULT_STEP_SECONDS } from '../contract/api';
import { parseDuration, parseTime } from '../contract/time';
import { ECHO_MAX, echo, PrescalerError, quoted } from '../errors';

export const time = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const t = parseTime(v);
  if (t === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `${quoted(String(v))} is not a Unix time in seconds or an RFC 3339 time`,
    });
    return z.NEVER;
  }
  return t;
});

export const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const d = parseDuration(v);
  if (d === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `${quoted(String(v))} is not a duration in seconds or Prometheus form (90s, 10m, 1h)`,
    });
    return z.NEVER;
  }
  return d;
});

export const rangeBodySchema = z
  .object({
    query: z.string().trim().min(1, 'query must be a non-empty PromQL expression'),
    start: time.optional(),
    end: time.optional(),
    step: duration.optional(),
  })
  .strict();

export const forecastBodySchema = rangeBodySchema.extend({ horizon: duration.optional() }).strict();

export interface RangeParams {
  query: string;
  start: number;
  end: number;
  step: number;
}

export const DEFAULT_RANGE = 24 * 3600;
/** The contract's DEFAULT_STEP_SECONDS, under the name the request parsers use. */
export const DEFAULT_STEP = DEFAULT_STEP_SECONDS;

/** Parses a body with `schema`, turning zod issues into one 400 that names the field. */
export function parseBody<T extends z.ZodTypeAny>(schema: T, body: unknown): z.infer<T> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new PrescalerError(
      'bad_request',
      'request body must be a JSON object (Content-Type: application/json)'
    );
  }
  const r = schema.safeParse(body);
  if (!r.success) {
    throw new PrescalerError('bad_request', issueMessage(r.error.issues[0]));
  }
  return r.data;
}

/**
 * One zod issue as `field: what is wrong`. Field names and zod's messages can carry the client's input
 * (an unknown key, an enum's received value): each is cut to a few hundred characters.
 */
export function issueMessage(i: z.ZodIssue, at = 'body'): string {
  const where = i.path.length ? echo(i.path.join('.')) : at;
  if (i.code === 'unrecognized_keys') {
    const shown = i.keys.slice(0, 5).map((k) => echo(k, 50));
    const more = i.keys.length > 5 ? ` and ${i.keys.length - 5} more` : '';
    return `${where}: unknown field(s): ${shown.join(', ')}${more}`;
  }
  return `${where}: ${echo(i.message, 2 * ECHO_MAX)}`;
}

/** Fills the defaults of docs/api.md "Routes" (end now, start end−24h, step 600 s) and checks the range. */
export function resolveRange(
  b: { query: string; start?: number; end?: number; step?: number },
  now: number,
  maxPoints: number
): RangeParams {
  const end = b.end ?? now;
  const step = b.step ?? DEFAULT_STEP;
  const start = b.start ?? end - DEFAULT_RANGE;
  if (!(step > 0)) throw new PrescalerError('bad_request', `step: must be > 0, got ${step}`);
  if (!(start < end)) throw new PrescalerError('bad_request', `start (${start}) must be before end (${end})`);
  const points = Math.floor((end - start) / step) + 1;
  if (points > maxPoints) {
    throw new PrescalerError(
      'too_large',
      `the range would return ${points} points per series, more than the limit of ${maxPoints}: raise step or shorten the range`
    );
  }
  return { query: b.query, start, end, step };
}
