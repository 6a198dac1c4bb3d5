import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type PublicReadoutFeed, type Readout, readoutContentBytes } from '@parley/protocol';
import type { RecordEntry } from '@parley/record';
import { linkStations, StationProcess } from '@parley/testkit';
import { waitFor } from './support/line-client.js';

// Readouts with two real stations: a press officer on each side publishes a readout citing the
// record entry of the same call; both public feeds (HTML, Atom, JSON) list them without a login;
// a citation of an entry that does not exist, or of one that is not a contact, is refused with
// READOUT_CITATION_INVALID and publishes nothing; both records hold both readout_published entries.

interface RecordStatus {
  size: number;
  rootHash: string;
  cosigned: { head: { size: number } } | null;
  entries?: RecordEntry[];
}

async function api<T>(url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as T };
}

const recordOf = async (url: string, token: string) =>
  (await api<RecordStatus>(url, token, 'GET', '/api/v1/lines/hotline/record?entries=true')).json;

async function draft(url: string, token: string, body: Record<string, unknown>): Promise<Readout> {
  const res = await api<{ readout: Readout }>(url, token, 'POST', '/api/v1/lines/hotline/readouts', body);
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json.readout;
}

const publish = (url: string, token: string, id: string) =>
  api<{ readout?: Readout; error?: { code: string; message: string } }>(url, token, 'POST', `/api/v1/lines/hotline/readouts/${id}/publish`);

async function feed(url: string): Promise<PublicReadoutFeed> {
  const res = await fetch(`${url}/public/readouts.json`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  return (await res.json()) as PublicReadoutFeed;
}

describe('readouts', () => {
  let washington: StationProcess;
  let moscow: StationProcess;
  let alice: string;
  let boris: string;
  let wPress: string;
  let mPress: string;
  let callIndex = -1;

  before(async () => {
    washington = await StationProcess.create({ name: 'washington', heartbeatMs: 500 });
    moscow = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    await washington.start();
    await moscow.start();
    alice = await washington.addEnrolledMember('alice');
    wPress = await washington.addEnrolledMember('wpress', 'press_officer');
    boris = await moscow.addEnrolledMember('boris');
    mPress = await moscow.addEnrolledMember('mpress', 'press_officer');
    await linkStations(washington, moscow, 'hotline', ['alice', 'wpress'], ['boris', 'mpress']);
    // A contact: a call request, ordered by the hub, in both stations' records.
    const req = await api<{ event: { callId: string } }>(washington.url, alice, 'POST', '/api/v1/lines/hotline/calls', {
      action: 'request',
      urgency: 'priority',
      clientId: 'readout-call-1',
    });
    assert.equal(req.status, 200, JSON.stringify(req.json));
    const callId = req.json.event.callId;
    callIndex = await waitFor('the call request in both records', async () => {
      const w = await recordOf(washington.url, alice);
      const m = await recordOf(moscow.url, boris);
      const at = (r: RecordStatus) => r.entries?.find((e) => e.type === 'call_requested' && e.callId === callId)?.index;
      const i = at(w);
      return i !== undefined && at(m) === i ? i : undefined;
    });
  });

  after(async () => {
    await washington?.stop();
    await moscow?.stop();
  });

  it('refuses drafts from members who are not press officers', async () => {
    const res = await api<{ error: { code: string } }>(washington.url, alice, 'POST', '/api/v1/lines/hotline/readouts', {
      title: 'x',
      text: 'y',
      lang: 'en',
      cites: [],
    });
    assert.equal(res.status, 403);
    assert.equal(res.json.error.code, 'NOT_PRESS_OFFICER');
  });

  it('refuses a citation of an entry that does not exist, or of one that is not a contact, and publishes nothing', async () => {
    const missing = await draft(washington.url, wPress, { title: 'Nothing', text: 'No such call.', lang: 'en', cites: [9999] });
    const res = await publish(washington.url, wPress, missing.id);
    assert.equal(res.status, 422);
    assert.equal(res.json.error?.code, 'READOUT_CITATION_INVALID');
    assert.match(res.json.error?.message ?? '', /entry 9999 does not exist/);

    const notContact = await draft(moscow.url, mPress, { title: 'Linked', text: 'The line exists.', lang: 'ru', cites: [0] });
    const res2 = await publish(moscow.url, mPress, notContact.id);
    assert.equal(res2.status, 422);
    assert.equal(res2.json.error?.code, 'READOUT_CITATION_INVALID');
    assert.match(res2.json.error?.message ?? '', /entry 0 \(line_linked.*\) is not a contact/);

    const listed = await api<{ readouts: Readout[] }>(washington.url, wPress, 'GET', '/api/v1/lines/hotline/readouts');
    assert.equal(listed.json.readouts.find((r) => r.id === missing.id)?.status, 'draft');
    assert.equal((await feed(washington.url)).readouts.length, 0);
    assert.equal((await feed(moscow.url)).readouts.length, 0);
    const rec = await recordOf(washington.url, alice);
    assert.ok(!(rec.entries ?? []).some((e) => e.type === 'readout_published'));
  });

  it('publishes a readout on each side citing the same call; both feeds list them without a login; both records hold them', async () => {
    const w = await draft(washington.url, wPress, {
      title: 'Call with Moscow',
      text: 'The presidents discussed the grain corridor.\n\nBoth sides agreed to talk again.',
      lang: 'en',
      textAlt: 'Президенты обсудили зерновой коридор.',
      langAlt: 'ru',
      cites: [callIndex],
    });
    const m = await draft(moscow.url, mPress, {
      title: 'Разговор с Вашингтоном',
      text: 'Стороны обсудили коридор.',
      lang: 'ru',
      cites: [callIndex],
    });
    const pw = await publish(washington.url, wPress, w.id);
    assert.equal(pw.status, 200, JSON.stringify(pw.json));
    assert.equal(pw.json.readout?.status, 'published');
    // Shown in advance (the app sent the text as an encrypted message), then published.
    const shared = await api<{ readout: Readout }>(moscow.url, mPress, 'POST', `/api/v1/lines/hotline/readouts/${m.id}/share`);
    assert.equal(shared.json.readout.status, 'shared');
    const pm = await publish(moscow.url, mPress, m.id);
    assert.equal(pm.status, 200, JSON.stringify(pm.json));
    const hashW = createHash('sha256')
      .update(readoutContentBytes({ title: w.title, lang: 'en', text: w.text, langAlt: 'ru', textAlt: w.textAlt! }))
      .digest('base64url');
    assert.equal(pw.json.readout?.contentHash, hashW);

    const late = await api<{ error: { code: string } }>(washington.url, wPress, 'POST', `/api/v1/lines/hotline/readouts/${w.id}/share`);
    assert.equal(late.json.error.code, 'READOUT_PUBLISHED');
    // A second publish is answered with the same readout and states nothing twice.
    assert.equal((await publish(washington.url, wPress, w.id)).json.readout?.publishedAt, pw.json.readout?.publishedAt);

    const fw = await feed(washington.url);
    const fm = await feed(moscow.url);
    assert.equal(fw.station.name, 'washington');
    assert.match(fw.station.fingerprint, /^([0-9a-f]{4} ){9}[0-9a-f]{4}$/);
    assert.equal(fw.readouts.length, 1);
    assert.equal(fm.readouts.length, 1);
    const [rw] = fw.readouts;
    const [rm] = fm.readouts;
    assert.equal(rw!.side, 'inviter');
    assert.equal(rm!.side, 'acceptor');
    assert.equal(rw!.line.id, rm!.line.id);
    assert.deepEqual(
      rw!.cites.map((c) => [c.index, c.type]),
      [[callIndex, 'call_requested']],
    );
    assert.deepEqual(rw!.cites, rm!.cites);
    assert.equal(rw!.textAlt, 'Президенты обсудили зерновой коридор.');
    assert.equal(rw!.langAlt, 'ru');

    const atom = await fetch(`${moscow.url}/public/readouts.atom`);
    assert.equal(atom.status, 200);
    assert.match(atom.headers.get('content-type') ?? '', /application\/atom\+xml/);
    const atomText = await atom.text();
    assert.match(atomText, /<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/);
    assert.match(atomText, /<title xml:lang="ru">Разговор с Вашингтоном<\/title>/);
    assert.match(atomText, new RegExp(`urn:parley:readout:${m.id}`));

    const html = await fetch(`${washington.url}/public/readouts`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    const page = await html.text();
    assert.match(page, /<h2 lang="en">Call with Moscow<\/h2>/);
    assert.match(page, /<section lang="ru">/);
    assert.match(page, new RegExp(`record entry <strong>${callIndex}</strong>`));

    // Both records hold both readouts, with the same hashes and citations, under a cosigned head.
    for (const [url, token] of [
      [washington.url, alice],
      [moscow.url, boris],
    ] as const) {
      const rec = await waitFor('both readouts in the record, cosigned', async () => {
        const r = await recordOf(url, token);
        const n = (r.entries ?? []).filter((e) => e.type === 'readout_published').length;
        return n === 2 && r.cosigned?.head.size === r.size ? r : undefined;
      });
      const published = (rec.entries ?? []).filter(
        (e): e is Extract<RecordEntry, { type: 'readout_published' }> => e.type === 'readout_published',
      );
      const byId = new Map(published.map((e) => [e.readoutId, e]));
      assert.equal(byId.get(w.id)?.by.side, 'inviter');
      assert.equal(byId.get(w.id)?.by.handle, 'wpress');
      assert.equal(byId.get(w.id)?.contentHash, rw!.contentHash);
      assert.deepEqual(byId.get(w.id)?.cites, [callIndex]);
      assert.equal(byId.get(m.id)?.by.side, 'acceptor');
      assert.equal(byId.get(m.id)?.by.handle, 'mpress');
      assert.equal(byId.get(m.id)?.contentHash, rm!.contentHash);
    }
  });
});
