import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { migrate } from './migrations.js';
import { type RawSqlite, registerSqlite } from './prepared.js';
import type { Database } from './schema.js';
import { type Checkpointer, startWalCheckpointer } from './wal-checkpointer.js';

export type Db = Kysely<Database>;

/**
 * Open the station database. SQLite runs in WAL mode with synchronous=FULL, so a commit has
 * reached the disk (fsync) before the call returns: "accepted" always means durable.
 * busy_timeout lets the admin CLI write while the station process runs.
 */
export async function openSqlite(file: string, opts: { backgroundCheckpoints?: boolean; log?: Logger } = {}): Promise<Db> {
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // A running station checkpoints from a worker thread (see wal-checkpointer.ts); short-lived
  // admin commands keep SQLite's own checkpoints.
  let checkpointer: Checkpointer | undefined;
  if (opts.backgroundCheckpoints) {
    sqlite.pragma('wal_autocheckpoint = 0');
    checkpointer = startWalCheckpointer(file, opts.log, () => {
      if (sqlite.open) sqlite.pragma('wal_autocheckpoint = 1000');
    });
  }
  const cached = withStatementCache(sqlite, () => void checkpointer?.stop());
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
  registerSqlite(db, {
    get inTransaction() {
      return sqlite.inTransaction;
    },
    held: false,
    setSynchronous: (level) => {
      sqlite.pragma(`synchronous = ${level}`);
    },
    prepare: (q: string) => cached.prepare(q) as unknown as ReturnType<RawSqlite['prepare']>,
  });
  await migrate(db as unknown as Kysely<unknown>);
  return db;
}

// int8 (bigint) columns hold sequence numbers and millisecond times, all far below 2^53:
// read them as numbers, as SQLite does, so the rest of the code sees one type.
pg.types.setTypeParser(20, (v: string) => Number(v));

/**
 * PostgreSQL: several station processes may share one database. PostgreSQL's default
 * (synchronous_commit=on) makes a commit durable before it returns, like SQLite's FULL.
 */
export async function openPostgres(url: string): Promise<Db> {
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000 });
  // A lost connection must surface as a failed query, never crash the process.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrate(db as unknown as Kysely<unknown>);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return db;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/**
 * Kysely prepares every statement it runs; preparing costs far more than running a small
 * statement. Keep the most recent statements prepared. Safe because Kysely runs one query at
 * a time on SQLite's single connection, and SQLite re-prepares a statement by itself if the
 * schema changed under it.
 */
function withStatementCache(sqlite: BetterSqlite3.Database, onClose: () => void, max = 256): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      onClose();
      sqlite.close();
    },
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql); // most recently used goes last
      } else {
        stmt = sqlite.prepare(sql) as unknown as SqliteStatement;
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}
