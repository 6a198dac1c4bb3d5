import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * When PARLEY_TEST_PG holds an admin URL of a (throwaway) PostgreSQL server, every test
 * station gets a fresh database there instead of SQLite, so the same suites run on both.
 */
export function testPostgresUrl(): string | undefined {
  return process.env.PARLEY_TEST_PG || undefined;
}

export async function freshPostgresDatabase(adminUrl: string, label: string): Promise<string> {
  const name = `parley_${label.replace(/[^a-z0-9]/g, '_')}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
