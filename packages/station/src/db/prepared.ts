import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './schema.js';

const SENTINEL = '\u0000parley-param:';

type Executor = Pick<Kysely<Database>, 'executeQuery' | 'isTransaction'>;

/** What the SQLite fast path needs of better-sqlite3 (see `registerSqlite`). */
export interface RawSqlite {
  readonly inTransaction: boolean;
  /** A caller holds the connection outside a transaction (see `derivedTransaction`): queue behind it. */
  held: boolean;
  /** `PRAGMA synchronous`: FULL (every commit fsynced) or NORMAL (fsynced with the next FULL commit). */
  setSynchronous(level: 'FULL' | 'NORMAL'): void;
  prepare(sql: string): {
    readonly reader: boolean;
    all(parameters: ReadonlyArray<unknown>): unknown[];
    run(parameters: ReadonlyArray<unknown>): { changes: number | bigint };
  };
}

const rawSqlite = new WeakMap<object, RawSqlite>();

/**
 * Let prepared queries on this database run straight on the SQLite connection when that is
 * safe, instead of through Kysely's asynchronous driver (which costs more than the statement).
 */
export function registerSqlite(db: Kysely<Database>, raw: RawSqlite): void {
  rawSqlite.set(db, raw);
}

export function rawSqliteOf(db: Kysely<Database>): RawSqlite | undefined {
  return rawSqlite.get(db);
}

/**
 * A query written once with the query builder (so the SQL is right for SQLite and
 * PostgreSQL alike), compiled once, then run many times with new values. The builder costs
 * tens of microseconds per query; on a line's hot path (several statements per item) that is
 * most of the work, so hot statements are prepared here and the driver's statement cache
 * does the rest. Named slots (`p('name')`) become the values given to `run`; every other
 * value in the query stays as compiled.
 */
export class Prepared<A extends Record<string, unknown>, R> {
  private constructor(
    private readonly compiled: CompiledQuery<R>,
    private readonly slots: (keyof A | null)[],
    private readonly raw: RawSqlite | null,
  ) {}

  static build<A extends Record<string, unknown>, R>(
    db: Kysely<Database>,
    build: (db: Kysely<Database>, p: <K extends keyof A>(name: K) => A[K]) => Compilable<R>,
  ): Prepared<A, R> {
    const p = <K extends keyof A>(name: K) => `${SENTINEL}${String(name)}` as unknown as A[K];
    const compiled = build(db, p).compile();
    const slots = compiled.parameters.map((v) =>
      typeof v === 'string' && v.startsWith(SENTINEL) ? (v.slice(SENTINEL.length) as keyof A) : null,
    );
    return new Prepared<A, R>(compiled, slots, rawSqlite.get(db) ?? null);
  }

  run(executor: Executor, args: A): Promise<QueryResult<R>> {
    const { compiled, slots } = this;
    const parameters = compiled.parameters.map((v, i) => {
      const slot = slots[i];
      return slot === null || slot === undefined ? v : args[slot];
    });
    return this.exec(executor, parameters);
  }

  private exec(executor: Executor, parameters: ReadonlyArray<unknown>): Promise<QueryResult<R>> {
    const { compiled, raw } = this;
    // SQLite has one connection and better-sqlite3 runs a statement synchronously, so a
    // statement may go straight to it when the caller holds the open transaction, or when no
    // transaction is open at all (nothing can interleave with a synchronous call). Otherwise
    // (someone else's transaction is open, or someone holds the connection) it must queue
    // behind it in Kysely's driver.
    if (raw && (executor.isTransaction || (!raw.inTransaction && !raw.held))) {
      const stmt = raw.prepare(compiled.sql);
      if (stmt.reader) return Promise.resolve({ rows: stmt.all(parameters) as R[] });
      const { changes } = stmt.run(parameters);
      return Promise.resolve({ numAffectedRows: BigInt(changes), rows: [] });
    }
    return executor.executeQuery<R>({ ...compiled, parameters });
  }

  /**
   * Run with the values in parameter order, for a query whose every parameter is a slot
   * named by its position ('0', '1', …): no per-call object of named values to build.
   */
  runValues(executor: Executor, values: unknown[]): Promise<QueryResult<R>> {
    if (values.length !== this.slots.length || this.slots.some((s, i) => s !== String(i))) {
      throw new Error('runValues needs a query whose parameters are all positional slots');
    }
    return this.exec(executor, values);
  }

  async rows(executor: Executor, args: A): Promise<R[]> {
    return (await this.run(executor, args)).rows;
  }

  async first(executor: Executor, args: A): Promise<R | undefined> {
    return (await this.run(executor, args)).rows[0];
  }
}

const perDb = new WeakMap<object, Map<string, Prepared<Record<string, unknown>, unknown>>>();

/** The prepared query `name` for this database, built on first use. */
export function prepared<A extends Record<string, unknown>, R>(
  db: Kysely<Database>,
  name: string,
  build: (db: Kysely<Database>, p: <K extends keyof A>(name: K) => A[K]) => Compilable<R>,
): Prepared<A, R> {
  let cache = perDb.get(db);
  if (!cache) {
    cache = new Map();
    perDb.set(db, cache);
  }
  let q = cache.get(name) as Prepared<A, R> | undefined;
  if (!q) {
    q = Prepared.build<A, R>(db, build);
    cache.set(name, q as unknown as Prepared<Record<string, unknown>, unknown>);
  }
  return q;
}
