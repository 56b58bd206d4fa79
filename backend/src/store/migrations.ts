/**
 * The schema of each store as ordered, append-only migrations: a database at version n has run exactly
 * the first n, and a start applies the rest in one transaction (so applying twice changes nothing).
 * The two lists describe the same tables; PostgreSQL's column types are the ones its client maps to the
 * same JavaScript values (double precision and integer to numbers, dry_run/reconciled as 0/1).
 */

/** SQLite's, tracked in PRAGMA user_version. */
export const SQLITE_MIGRATIONS: string[] = [
  `CREATE TABLE IF NOT EXISTS recommendations (
     id TEXT PRIMARY KEY,
     target TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('forecast', 'emergency')),
     created_at REAL NOT NULL,
     expires_at REAL NOT NULL,
     current_replicas INTEGER NOT NULL,
     recommended_replicas INTEGER NOT NULL,
     reason TEXT NOT NULL,
     forecast TEXT,
     status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'expired', 'superseded', 'failed')),
     status_at REAL NOT NULL,
     origin TEXT
   );
   CREATE INDEX IF NOT EXISTS recommendations_target_status ON recommendations (target, status);
   CREATE INDEX IF NOT EXISTS recommendations_created ON recommendations (created_at);
   CREATE TABLE IF NOT EXISTS audit (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at REAL NOT NULL,
     action TEXT NOT NULL CHECK (action IN ('apply', 'revert-floor')),
     actor TEXT NOT NULL,
     target TEXT NOT NULL,
     from_replicas INTEGER NOT NULL,
     to_replicas INTEGER NOT NULL,
     recommendation_id TEXT REFERENCES recommendations (id),
     outcome TEXT NOT NULL CHECK (outcome IN ('unknown', 'applied', 'failed')),
     dry_run INTEGER NOT NULL,
     detail TEXT,
     error_code TEXT,
     finished_at REAL,
     reconciled INTEGER NOT NULL DEFAULT 0
   );
   CREATE UNIQUE INDEX IF NOT EXISTS audit_one_apply_per_recommendation
     ON audit (recommendation_id) WHERE action = 'apply';
   CREATE INDEX IF NOT EXISTS audit_outcome ON audit (outcome);
   CREATE TABLE IF NOT EXISTS dry_run_state (
     target TEXT PRIMARY KEY,
     state TEXT NOT NULL
   );`,
  // One row per occurrence of an alert (fingerprint + startsAt): the emergency it raised, and whether
  // it has resolved. recommendation_id NULL: claimed by a notification being handled right now.
  `CREATE TABLE IF NOT EXISTS alert_occurrences (
     target TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     starts_at TEXT NOT NULL,
     first_seen REAL NOT NULL,
     recommendation_id TEXT REFERENCES recommendations (id),
     resolved_at REAL,
     PRIMARY KEY (target, fingerprint, starts_at)
   );`,
];

/** PostgreSQL's, tracked in prescaler_schema (one row per migration run). */
export const POSTGRES_MIGRATIONS: string[] = [
  `CREATE TABLE recommendations (
     id TEXT PRIMARY KEY,
     -- insertion order, for ties in created_at (SQLite's rowid)
     seq INTEGER GENERATED ALWAYS AS IDENTITY,
     target TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('forecast', 'emergency')),
     created_at DOUBLE PRECISION NOT NULL,
     expires_at DOUBLE PRECISION NOT NULL,
     current_replicas INTEGER NOT NULL,
     recommended_replicas INTEGER NOT NULL,
     reason TEXT NOT NULL,
     forecast TEXT,
     status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'expired', 'superseded', 'failed')),
     status_at DOUBLE PRECISION NOT NULL,
     origin TEXT
   );
   CREATE INDEX recommendations_target_status ON recommendations (target, status);
   CREATE INDEX recommendations_created ON recommendations (created_at);
   CREATE TABLE audit (
     id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     at DOUBLE PRECISION NOT NULL,
     action TEXT NOT NULL CHECK (action IN ('apply', 'revert-floor')),
     actor TEXT NOT NULL,
     target TEXT NOT NULL,
     from_replicas INTEGER NOT NULL,
     to_replicas INTEGER NOT NULL,
     recommendation_id TEXT REFERENCES recommendations (id),
     outcome TEXT NOT NULL CHECK (outcome IN ('unknown', 'applied', 'failed')),
     dry_run INTEGER NOT NULL,
     detail TEXT,
     error_code TEXT,
     finished_at DOUBLE PRECISION,
     reconciled INTEGER NOT NULL DEFAULT 0
   );
   CREATE UNIQUE INDEX audit_one_apply_per_recommendation ON audit (recommendation_id) WHERE action = 'apply';
   CREATE INDEX audit_outcome ON audit (outcome);
   CREATE TABLE dry_run_state (
     target TEXT PRIMARY KEY,
     state TEXT NOT NULL
   );
   CREATE TABLE alert_occurrences (
     target TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     starts_at TEXT NOT NULL,
     first_seen DOUBLE PRECISION NOT NULL,
     recommendation_id TEXT REFERENCES recommendations (id),
     resolved_at DOUBLE PRECISION,
     PRIMARY KEY (target, fingerprint, starts_at)
   );`,
];
