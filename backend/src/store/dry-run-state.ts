/** The dry_run_state table: what the dry-run actuator "set" on each target, as JSON (actuate/dry-run.ts). */
import type { Sql } from './database';
import type { DryRunState } from './types';

export async function get(sql: Sql, target: string): Promise<DryRunState | undefined> {
  const row = await sql.one<{ state: string }>('SELECT state FROM dry_run_state WHERE target = $1', [target]);
  return row && (JSON.parse(row.state) as DryRunState);
}

export async function set(sql: Sql, target: string, state: DryRunState): Promise<void> {
  await sql.run(
    'INSERT INTO dry_run_state (target, state) VALUES ($1, $2) ON CONFLICT (target) DO UPDATE SET state = excluded.state',
    [target, JSON.stringify(state)]
  );
}
