import type { PublicCitation, PublicReadoutFeed } from '@parley/protocol';
import { describeEntry, type RecordEntry } from '@parley/record';
import { num } from '../lines/line-store.js';
import type { StationContext } from '../station-context.js';

// The station's public feed of published readouts: the same list as JSON (for observers and
// programs), Atom (for feed readers) and an HTML page (for people). Nothing here needs a login,
// and nothing here is secret: a readout is published to be read. Each cited entry is shown with
// its index, type and time, and the line's record head with it, so an observer can ask either
// station for a proof that the contact happened without learning what was said in it.

const FEED_LIMIT = 200;

export async function readoutFeed(ctx: StationContext): Promise<PublicReadoutFeed> {
  const rows = await ctx.db
    .selectFrom('readouts')
    .innerJoin('lines', 'lines.id', 'readouts.line_id')
    .selectAll('readouts')
    .select(['lines.name as line_name', 'lines.role as line_role', 'lines.peer_name as peer_name'])
    .where('readouts.status', '=', 'published')
    .orderBy('readouts.published_at', 'desc')
    .limit(FEED_LIMIT)
    .execute();
  const records = new Map<string, Awaited<ReturnType<StationContext['record']['status']>>>();
  const readouts: PublicReadoutFeed['readouts'] = [];
  for (const r of rows) {
    let rec = records.get(r.line_id);
    if (!rec) {
      const line = await ctx.db.selectFrom('lines').selectAll().where('id', '=', r.line_id).executeTakeFirstOrThrow();
      rec = await ctx.record.status(line, { entries: true });
      records.set(r.line_id, rec);
    }
    const entries: readonly RecordEntry[] = rec.entries ?? [];
    const cites: PublicCitation[] = (JSON.parse(r.cites) as number[]).map((i) => {
      const e = entries[i];
      return e
        ? { index: i, type: e.type, at: e.at, what: describeEntry(e) }
        : { index: i, type: 'unknown', at: '', what: 'not in this station’s record' };
    });
    const head = rec.cosigned?.head;
    readouts.push({
      id: r.id,
      line: { id: r.line_id, name: r.line_name, peer: r.peer_name },
      side: r.line_role === 'inviter' ? 'inviter' : 'acceptor',
      author: r.author,
      title: r.title,
      text: r.text,
      lang: r.lang,
      ...(r.text_alt !== null && r.lang_alt !== null ? { textAlt: r.text_alt, langAlt: r.lang_alt } : {}),
      publishedAt: new Date(num(r.published_at ?? 0)).toISOString(),
      contentHash: r.content_hash ?? '',
      cites,
      record: {
        size: rec.size,
        rootHash: rec.rootHash,
        cosigned: head ? { size: head.size, rootHash: head.rootHash, at: head.at } : null,
      },
    });
  }
  return {
    format: 'parley-readouts-v1',
    station: { name: ctx.data.config.name, fingerprint: ctx.data.key.fingerprint },
    generatedAt: new Date().toISOString(),
    readouts,
  };
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function paragraphs(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((p) => `<p>${esc(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}

export function readoutFeedHtml(feed: PublicReadoutFeed): string {
  const items = feed.readouts.map((r) => {
    const cites =
      r.cites.length === 0
        ? ''
        : `<p class="cites">Describes: ${r.cites
            .map((c) => `record entry <strong>${c.index}</strong> (${esc(c.what)}, ${esc(c.at)})`)
            .join('; ')}</p>`;
    const alt =
      r.textAlt !== undefined && r.langAlt !== undefined
        ? `<section lang="${esc(r.langAlt)}"><h3>${esc(r.langAlt)}</h3>${paragraphs(r.textAlt)}</section>`
        : '';
    return `<article id="readout-${esc(r.id)}">
<h2 lang="${esc(r.lang)}">${esc(r.title)}</h2>
<p class="meta">Line <strong>${esc(r.line.name)}</strong> with ${esc(r.line.peer)} · by ${esc(r.author)} · published <time datetime="${esc(r.publishedAt)}">${esc(r.publishedAt)}</time></p>
<section lang="${esc(r.lang)}">${paragraphs(r.text)}</section>
${alt}
${cites}
<p class="hash">Content SHA-256: <code>${esc(r.contentHash)}</code> · record of the line: ${r.record.size} entries${
      r.record.cosigned ? `, cosigned head ${r.record.cosigned.size} (<code>${esc(r.record.cosigned.rootHash)}</code>)` : ''
    }</p>
</article>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Readouts of ${esc(feed.station.name)}</title>
<link rel="alternate" type="application/atom+xml" href="/public/readouts.atom" title="Atom">
<link rel="alternate" type="application/json" href="/public/readouts.json" title="JSON">
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111;background:#fff}
article{border-top:1px solid #999;padding:1rem 0}.meta,.cites,.hash{font-size:.9rem;color:#333}code{word-break:break-all}
</style>
</head>
<body>
<header>
<h1>Readouts of ${esc(feed.station.name)}</h1>
<p>Station fingerprint <code>${esc(feed.station.fingerprint)}</code>. Also as <a href="/public/readouts.atom">Atom</a> and <a href="/public/readouts.json">JSON</a>.</p>
</header>
<main>
${items.length > 0 ? items.join('\n') : '<p>No readouts have been published.</p>'}
</main>
</body>
</html>
`;
}

export function readoutFeedAtom(feed: PublicReadoutFeed, baseUrl: string): string {
  const updated = feed.readouts[0]?.publishedAt ?? feed.generatedAt;
  const fp = feed.station.fingerprint.replace(/\s+/g, '');
  const entries = feed.readouts.map((r) => {
    const cites = r.cites.map((c) => `record entry ${c.index} (${c.what}, ${c.at})`).join('; ');
    const alt = r.textAlt !== undefined && r.langAlt !== undefined ? `\n\n[${r.langAlt}]\n${r.textAlt}` : '';
    return `  <entry>
    <id>urn:parley:readout:${esc(r.id)}</id>
    <title xml:lang="${esc(r.lang)}">${esc(r.title)}</title>
    <updated>${esc(r.publishedAt)}</updated>
    <published>${esc(r.publishedAt)}</published>
    <author><name>${esc(r.author)}</name></author>
    <link rel="alternate" type="text/html" href="${esc(`${baseUrl}/public/readouts#readout-${r.id}`)}"/>
    <category term="${esc(r.line.name)}" label="line ${esc(r.line.name)}"/>
    <content type="text" xml:lang="${esc(r.lang)}">${esc(r.text + alt + (cites ? `\n\nDescribes: ${cites}` : ''))}</content>
  </entry>`;
  });
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:parley:station:${esc(fp)}:readouts</id>
  <title>Readouts of ${esc(feed.station.name)}</title>
  <subtitle>Station fingerprint ${esc(feed.station.fingerprint)}</subtitle>
  <updated>${esc(updated)}</updated>
  <author><name>${esc(feed.station.name)}</name></author>
  <link rel="self" type="application/atom+xml" href="${esc(`${baseUrl}/public/readouts.atom`)}"/>
  <link rel="alternate" type="text/html" href="${esc(`${baseUrl}/public/readouts`)}"/>
${entries.join('\n')}
</feed>
`;
}
