import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

// One schema for SQLite and PostgreSQL: only types both understand (text, bigint, blob via
// `bytea`/`blob` chosen by dialect) and constraints both enforce the same way.

type Db = Kysely<unknown>;

function blobType(db: Db) {
  return isPostgres(db) ? sql`bytea` : sql`blob`;
}

export function isPostgres(db: Db): boolean {
  return db.getExecutor().adapter.constructor.name.toLowerCase().includes('postgres');
}

const migrations: Record<string, Migration> = {
  '0001_members': {
    async up(db: Db) {
      await db.schema
        .createTable('members')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('handle', 'text', (c) => c.notNull().unique())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('enroll_secret_hash', 'text')
        .addColumn('enroll_expires_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('member_id', 'text', (c) => c.notNull().references('members.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('member_id', 'text', (c) => c.notNull().references('members.id'))
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0002_lines': {
    async up(db: Db) {
      await db.schema
        .createTable('lines')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('peer_name', 'text', (c) => c.notNull())
        .addColumn('peer_public_key', blobType(db), (c) => c.notNull())
        .addColumn('peer_urls', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_pos', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('out_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('out_acked', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('in_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('peer_sent_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('last_contact_at', 'bigint')
        .execute();
      await db.schema
        .createTable('seats')
        .addColumn('line_id', 'text', (c) => c.notNull().references('lines.id'))
        .addColumn('member_id', 'text', (c) => c.notNull().references('members.id'))
        .addPrimaryKeyConstraint('seats_pk', ['line_id', 'member_id'])
        .execute();
      await db.schema
        .createTable('peer_seats')
        .addColumn('line_id', 'text', (c) => c.notNull().references('lines.id'))
        .addColumn('handle', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('peer_seats_pk', ['line_id', 'handle'])
        .execute();
      await db.schema
        .createTable('invitations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('line_id', 'text', (c) => c.notNull())
        .addColumn('line_name', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('seats', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('items')
        .addColumn('line_id', 'text', (c) => c.notNull().references('lines.id'))
        .addColumn('pos', 'bigint', (c) => c.notNull())
        .addColumn('dir', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('payload', blobType(db), (c) => c.notNull())
        .addColumn('sender_handle', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text')
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        .addColumn('stored_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('items_pk', ['line_id', 'pos'])
        .addUniqueConstraint('items_seq_unique', ['line_id', 'dir', 'seq'])
        // NULL client ids never collide, in SQLite and PostgreSQL alike.
        .addUniqueConstraint('items_client_unique', ['line_id', 'dir', 'sender_handle', 'client_id'])
        .execute();
      await db.schema
        .createTable('fed_nonces')
        .addColumn('station_key', 'text', (c) => c.notNull())
        .addColumn('nonce', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('fed_nonces_pk', ['station_key', 'nonce'])
        .execute();
      await db.schema.createIndex('fed_nonces_expiry').on('fed_nonces').column('expires_at').execute();
    },
  },
  '0003_line_health': {
    // The running station writes what it last saw of the line, so out-of-process readers
    // (the admin CLI's `line status`) see the same lamp as the station's own API.
    async up(db: Db) {
      await db.schema.alterTable('lines').addColumn('health', 'text').execute();
      await db.schema.alterTable('lines').addColumn('health_at', 'bigint').execute();
      await db.schema.alterTable('lines').addColumn('endpoints', 'text').execute();
    },
  },
  '0004_leases': {
    // Which process of a multi-process station runs a line's forwarder and heartbeats.
    async up(db: Db) {
      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0005_e2ee': {
    async up(db: Db) {
      // Devices' MLS signature keys and the station's signed bindings of them.
      await db.schema
        .createTable('mls_devices')
        .addColumn('device_id', 'text', (c) => c.primaryKey())
        .addColumn('member_handle', 'text', (c) => c.notNull())
        .addColumn('signature_key', blobType(db), (c) => c.notNull())
        .addColumn('binding', blobType(db), (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // Published key packages; each is handed out once, to one line's hub.
      await db.schema
        .createTable('key_packages')
        .addColumn('ref', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('member_handle', 'text', (c) => c.notNull())
        .addColumn('key_package', blobType(db), (c) => c.notNull())
        .addColumn('not_after', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('handed_out_at', 'bigint')
        .execute();
      await db.schema.createIndex('key_packages_device').on('key_packages').column('device_id').execute();
      // The station's recorder device per line. Every secret column is sealed with the archive
      // key, which lives outside the database.
      await db.schema
        .createTable('recorders')
        .addColumn('line_id', 'text', (c) => c.primaryKey())
        .addColumn('device', blobType(db), (c) => c.notNull())
        .addColumn('kp_secrets', blobType(db))
        .addColumn('group_state', blobType(db))
        .addColumn('epoch', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('cursor_pos', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('pending', blobType(db))
        .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('archive')
        .addColumn('line_id', 'text', (c) => c.notNull())
        .addColumn('pos', 'bigint', (c) => c.notNull())
        .addColumn('sender_station', 'text', (c) => c.notNull())
        .addColumn('sender_handle', 'text', (c) => c.notNull())
        .addColumn('sender_device', 'text', (c) => c.notNull())
        .addColumn('body', blobType(db))
        .addColumn('error', 'text')
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('archive_pk', ['line_id', 'pos'])
        .execute();
    },
  },
  '0006_seat_history': {
    // Every seat held on a line, on either side ('own' or 'peer'), since the station first saw
    // it. A member whose seat is removed keeps leaves in commits and messages not yet processed
    // (and in the group until the hub's removal): the recorder still verifies them by this.
    async up(db: Db) {
      await db.schema
        .createTable('seat_history')
        .addColumn('line_id', 'text', (c) => c.notNull().references('lines.id'))
        .addColumn('side', 'text', (c) => c.notNull())
        .addColumn('handle', 'text', (c) => c.notNull())
        .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('seat_history_pk', ['line_id', 'side', 'handle'])
        .execute();
      // What is known so far: the seats held now.
      const now = sql.lit(Date.now());
      await sql`INSERT INTO seat_history (line_id, side, handle, first_seen_at)
        SELECT seats.line_id, 'own', members.handle, ${now} FROM seats INNER JOIN members ON members.id = seats.member_id`.execute(db);
      await sql`INSERT INTO seat_history (line_id, side, handle, first_seen_at)
        SELECT line_id, 'peer', handle, ${now} FROM peer_seats`.execute(db);
    },
  },
  '0007_joint_record': {
    // The line's joint record (src/record/): the entries this station folded from the hub's
    // stream, the heads both stations signed, and the alarms raised when the peer's heads or
    // receipts disagree with ours. `record_folds` holds the fold's cursor, written in the same
    // transaction as the entries it produced, so a crash never loses or repeats an entry.
    async up(db: Db) {
      await db.schema
        .createTable('record_entries')
        .addColumn('line_id', 'text', (c) => c.notNull().references('lines.id'))
        .addColumn('idx', 'bigint', (c) => c.notNull())
        .addColumn('entry', 'text', (c) => c.notNull())
        .addColumn('leaf_hash', blobType(db), (c) => c.notNull())
        .addPrimaryKeyConstraint('record_entries_pk', ['line_id', 'idx'])
        .execute();
      await db.schema
        .createTable('record_folds')
        .addColumn('line_id', 'text', (c) => c.primaryKey().references('lines.id'))
        .addColumn('folded_seq', 'bigint', (c) => c.notNull())
        .addColumn('hold_from', 'bigint')
        .execute();
      await db.schema
        .createTable('record_heads')
        .addColumn('line_id', 'text', (c) => c.notNull().references('lines.id'))
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('root_hash', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('sig_inviter', 'text')
        .addColumn('sig_acceptor', 'text')
        .addPrimaryKeyConstraint('record_heads_pk', ['line_id', 'size'])
        .execute();
      await db.schema
        .createTable('record_alarms')
        .addColumn('line_id', 'text', (c) => c.notNull().references('lines.id'))
        .addColumn('alarm_key', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('evidence', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('record_alarms_pk', ['line_id', 'alarm_key'])
        .execute();
    },
  },
  '0008_readouts': {
    // Press officers' readouts (src/readouts/). Public statements, so kept in clear at their own
    // station (never end-to-end encrypted); the joint record holds only their content hash and
    // the entries they cite. `cites` is a JSON array of record entry indices.
    async up(db: Db) {
      await db.schema
        .createTable('readouts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('line_id', 'text', (c) => c.notNull().references('lines.id'))
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('lang', 'text', (c) => c.notNull())
        .addColumn('text_alt', 'text')
        .addColumn('lang_alt', 'text')
        .addColumn('cites', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('published_at', 'bigint')
        .addColumn('content_hash', 'text')
        .execute();
      await db.schema.createIndex('readouts_published').on('readouts').columns(['status', 'published_at']).execute();
    },
  },
  '0009_line_languages': {
    // Each side's working languages of a line (issue 9), JSON arrays of BCP 47 tags; null on lines
    // linked before, which have none until an administrator sets them. The invitation keeps the
    // inviting side's until the line exists.
    async up(db: Db) {
      await db.schema.alterTable('lines').addColumn('own_langs', 'text').execute();
      await db.schema.alterTable('lines').addColumn('peer_langs', 'text').execute();
      await db.schema.alterTable('invitations').addColumn('langs', 'text').execute();
    },
  },
  '0012_archive_translations': {
    // The recorder archives translations (issue 9) beside messages: which message a row renders
    // (the side whose stream carries it and its seq there) and into which language. Public
    // metadata, as on the item itself; the text stays sealed in `body`. Null on messages.
    async up(db: Db) {
      await db.schema.alterTable('archive').addColumn('of_side', 'text').execute();
      await db.schema.alterTable('archive').addColumn('of_seq', 'bigint').execute();
      await db.schema.alterTable('archive').addColumn('lang', 'text').execute();
    },
  },
  '0013_peer_refusal': {
    // What the peer station answered when it last refused our stream's next batch (JSON: seq,
    // code, message, since), null while it takes them: a refused item holds the stream, and
    // the operators of both sides must see why, not just a growing backlog.
    async up(db: Db) {
      await db.schema.alterTable('lines').addColumn('peer_refusal', 'text').execute();
    },
  },
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export async function migrate(db: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}
