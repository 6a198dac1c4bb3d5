import { createHash } from 'node:crypto';
import {
  FedReadoutResponse,
  ParleyError,
  type Readout,
  type ReadoutDraftRequest,
  readoutContentBytes,
  type Role,
  validLang,
} from '@parley/protocol';
import { describeEntry, isContact, type RecordEntry } from '@parley/record';
import type { ReadoutsTable } from '../db/schema.js';
import { Endpoints } from '../federation/endpoints.js';
import { fedPost } from '../federation/fed-client.js';
import { newId } from '../ids.js';
import { type LineRow, num, peerSeatsOf } from '../lines/line-store.js';
import type { StationContext } from '../station-context.js';

// Readouts (issue 7): a press officer's public account of a call or talk. A readout is a public
// statement, so it is kept in clear at its own station and never crosses the line (no plaintext
// reaches the peer: only the `readout_published` entry of the joint record does, with the SHA-256
// of the content and the entries cited). Publishing is the one step both stations see: the hub
// states the entry on its stream, for its own press officers directly and for the other
// station's through a signed federation request; each checks the citations against its own log.

/** Who may draft and publish readouts. */
const PRESS_ROLES: readonly Role[] = ['press_officer', 'admin'];

export function mayWriteReadouts(role: string): boolean {
  return (PRESS_ROLES as readonly string[]).includes(role);
}

export function toReadout(row: ReadoutsTable, lineName: string): Readout {
  return {
    id: row.id,
    line: lineName,
    author: row.author,
    title: row.title,
    text: row.text,
    lang: row.lang,
    ...(row.text_alt !== null && row.lang_alt !== null ? { textAlt: row.text_alt, langAlt: row.lang_alt } : {}),
    cites: JSON.parse(row.cites) as number[],
    status: row.status as Readout['status'],
    createdAt: num(row.created_at),
    publishedAt: row.published_at === null ? null : num(row.published_at),
    contentHash: row.content_hash,
  };
}

/** SHA-256 (base64url) of a readout's content: what the joint record holds of it. */
export function readoutContentHash(r: Pick<ReadoutsTable, 'title' | 'lang' | 'text' | 'lang_alt' | 'text_alt'>): string {
  const bytes = readoutContentBytes({
    title: r.title,
    lang: r.lang,
    text: r.text,
    ...(r.lang_alt !== null && r.text_alt !== null ? { langAlt: r.lang_alt, textAlt: r.text_alt } : {}),
  });
  return createHash('sha256').update(bytes).digest('base64url');
}

/**
 * Why a list of citations cannot stand against a record's entries, or undefined when every one
 * names an existing contact. The message names the first bad index and says why.
 */
export function citationProblem(entries: readonly RecordEntry[], cites: readonly number[]): string | undefined {
  for (const i of cites) {
    const entry = entries[i];
    if (!entry) {
      const held = entries.length === 0 ? 'holds no entry yet' : `holds entries 0 to ${entries.length - 1}`;
      return `entry ${i} does not exist: the line's joint record ${held}`;
    }
    if (!isContact(entry)) {
      return `entry ${i} (${entry.type}: ${describeEntry(entry)}) is not a contact: a readout cites call events or message traffic`;
    }
  }
  return undefined;
}

export class ReadoutDesk {
  constructor(private readonly ctx: StationContext) {}

  async draft(line: LineRow, author: { handle: string; role: string }, req: ReadoutDraftRequest): Promise<Readout> {
    if (!mayWriteReadouts(author.role)) {
      throw new ParleyError('NOT_PRESS_OFFICER', `readouts are written by press officers; you are ${author.role}`);
    }
    if (!validLang(req.lang)) throw new ParleyError('VALIDATION_FAILED', `lang ${req.lang} is not a BCP 47 language tag`);
    if ((req.textAlt === undefined) !== (req.langAlt === undefined)) {
      throw new ParleyError('VALIDATION_FAILED', 'a second language needs both textAlt and langAlt');
    }
    if (req.langAlt !== undefined && req.langAlt.toLowerCase() === req.lang.toLowerCase()) {
      throw new ParleyError('VALIDATION_FAILED', `the second language must differ from the first (${req.lang})`);
    }
    if (new Set(req.cites).size !== req.cites.length) throw new ParleyError('VALIDATION_FAILED', 'cites names an entry twice');
    const row: ReadoutsTable = {
      id: newId(),
      line_id: line.id,
      author: author.handle,
      title: req.title,
      text: req.text,
      lang: req.lang,
      text_alt: req.textAlt ?? null,
      lang_alt: req.langAlt ?? null,
      cites: JSON.stringify(req.cites),
      status: 'draft',
      created_at: Date.now(),
      published_at: null,
      content_hash: null,
    };
    await this.ctx.db.insertInto('readouts').values(row).execute();
    return toReadout(row, line.name);
  }

  async list(line: LineRow): Promise<Readout[]> {
    const rows = await this.ctx.db
      .selectFrom('readouts')
      .selectAll()
      .where('line_id', '=', line.id)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map((r) => toReadout(r, line.name));
  }

  private async row(line: LineRow, id: string): Promise<ReadoutsTable> {
    const row = await this.ctx.db.selectFrom('readouts').selectAll().where('line_id', '=', line.id).where('id', '=', id).executeTakeFirst();
    if (!row) throw new ParleyError('NOT_FOUND', `no readout ${id} on line ${line.name}`);
    return row;
  }

  /**
   * Mark a draft as shown to the other side in advance. The station cannot show it itself: a
   * draft is not public yet, and nothing in clear may cross the line, so the client app sends its
   * text as an ordinary end-to-end encrypted message and then says so here.
   */
  async markShared(line: LineRow, member: { handle: string; role: string }, id: string): Promise<Readout> {
    if (!mayWriteReadouts(member.role)) {
      throw new ParleyError('NOT_PRESS_OFFICER', `readouts are shared by press officers; you are ${member.role}`);
    }
    const row = await this.row(line, id);
    if (row.status === 'published') throw new ParleyError('READOUT_PUBLISHED', `readout ${id} is already published`);
    await this.ctx.db.updateTable('readouts').set({ status: 'shared' }).where('id', '=', id).where('status', '=', 'draft').execute();
    return toReadout(await this.row(line, id), line.name);
  }

  /**
   * Publish: check every citation against this station's record, have the hub state the
   * `readout_published` entry, then mark it published (and on the public feed). A retry after a
   * lost answer states nothing twice (the hub's item has one client id per readout).
   */
  async publish(line: LineRow, member: { handle: string; role: string }, id: string): Promise<Readout> {
    if (!mayWriteReadouts(member.role)) {
      throw new ParleyError('NOT_PRESS_OFFICER', `readouts are published by press officers; you are ${member.role}`);
    }
    const row = await this.row(line, id);
    if (row.status === 'published') return toReadout(row, line.name);
    const cites = JSON.parse(row.cites) as number[];
    const status = await this.ctx.record.status(line, { entries: true });
    const problem = citationProblem(status.entries ?? [], cites);
    if (problem)
      throw new ParleyError(
        'READOUT_CITATION_INVALID',
        `readout ${id} cannot be published: ${problem}`,
        'cite entries of GET /api/v1/lines/:line/record',
      );
    const contentHash = readoutContentHash(row);
    const stated = { readoutId: row.id, contentHash, ...(cites.length > 0 ? { cites } : {}) };
    if (line.role === 'inviter') {
      await this.ctx.record.stateReadout(line, { type: 'readout_published', ...stated, by: { side: 'inviter', handle: member.handle } });
    } else {
      await fedPost(
        this.ctx.data.key,
        line.peer_public_key,
        this.ctx.lines.runtime(line.id)?.endpoints ?? new Endpoints(JSON.parse(line.peer_urls) as string[]),
        `fed/v1/lines/${line.id}/readouts`,
        { readoutId: row.id, contentHash, cites, handle: member.handle },
        FedReadoutResponse,
      );
    }
    const publishedAt = Date.now();
    await this.ctx.db
      .updateTable('readouts')
      .set({ status: 'published', published_at: publishedAt, content_hash: contentHash })
      .where('id', '=', row.id)
      .where('status', '!=', 'published')
      .execute();
    return toReadout(await this.row(line, id), line.name);
  }

  /** At the hub: the other station's press officer published a readout; state it if its citations stand here too. */
  async stateFromPeer(line: LineRow, req: { readoutId: string; contentHash: string; cites: number[]; handle: string }): Promise<void> {
    if (line.role !== 'inviter') throw new ParleyError('FORBIDDEN', 'only the inviting station states record entries on this line');
    const seat = (await peerSeatsOf(this.ctx.db, line.id)).find((s) => s.handle === req.handle);
    if (!seat) throw new ParleyError('FORBIDDEN', `${req.handle} holds no seat on this line`);
    if (!mayWriteReadouts(seat.role)) throw new ParleyError('NOT_PRESS_OFFICER', `${req.handle} is ${seat.role}, not a press officer`);
    if (new Set(req.cites).size !== req.cites.length) throw new ParleyError('VALIDATION_FAILED', 'cites names an entry twice');
    const status = await this.ctx.record.status(line, { entries: true });
    const problem = citationProblem(status.entries ?? [], req.cites);
    if (problem) throw new ParleyError('READOUT_CITATION_INVALID', `readout ${req.readoutId}: ${problem}`);
    await this.ctx.record.stateReadout(line, {
      type: 'readout_published',
      readoutId: req.readoutId,
      contentHash: req.contentHash,
      ...(req.cites.length > 0 ? { cites: req.cites } : {}),
      by: { side: 'acceptor', handle: req.handle },
    });
  }
}
