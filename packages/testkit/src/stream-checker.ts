/**
 * Proves what a line promises about one directed stream, from what the clients saw and what
 * the stations hold afterwards. Pure: feed it logs and timelines, read its verdict.
 *
 * For every sending client it is told what was sent, in send order, and which items the
 * station answered 'accepted' (with the sequence number it gave). Against the receiving
 * station's timeline it checks:
 *  - the stream is gap-free and ordered: the incoming items, in timeline order, carry
 *    sequence numbers exactly 1, 2, …, N;
 *  - nothing is duplicated: no (sender, client id) twice, no sequence number twice;
 *  - nothing is lost: every item acknowledged to its sender arrived, exactly once, with the
 *    sequence number, payload and sender it was acknowledged with;
 *  - nothing is invented: every incoming item is one some client sent (items the sender
 *    never saw acknowledged may appear, but at most once);
 *  - sender order holds: a client that sent one item after another on one ordered channel
 *    sees them arrive in that order;
 *  - optionally, the sending station's outgoing stream and the receiving station's incoming
 *    stream are the same stream, item for item (after quiescence).
 */

export interface SentItem {
  clientId: string;
  /** base64url, as sent. */
  payload: string;
  /** The sequence number in the station's 'accepted' answer; null if no answer was ever seen. */
  acceptedSeq: number | null;
}

export interface SenderLog {
  name: string;
  /** Handle of the member the client sends as (client ids are unique per sender). */
  handle: string;
  /** True when the client sent over one ordered channel (pipelined WebSocket), so send order must hold. */
  ordered: boolean;
  /** Everything the client tried to send, in the order it first sent it. */
  items: SentItem[];
}

export interface TimelineItem {
  pos: number;
  dir: 'in' | 'out';
  seq: number;
  payload: string;
  clientId: string | null;
  sender: { handle: string };
}

export interface StreamCheckInput {
  /** Every client that sent towards the receiving station on this line. */
  senders: SenderLog[];
  /** The receiving station's timeline of the line (both directions; read in full). */
  receiverTimeline: TimelineItem[];
  /** The sending station's timeline of the line, to compare the two ends of the stream. */
  senderTimeline?: TimelineItem[];
  /**
   * Handles that put items on the stream without being one of `senders` (a station's own
   * recorder device, say). Their items must still take their place in the gap-free stream,
   * once each, but are not matched against a send log.
   */
  otherSenders?: string[];
}

export interface StreamCheckReport {
  ok: boolean;
  problems: string[];
  stats: {
    sent: number;
    acknowledged: number;
    /** Incoming items from the known senders. */
    received: number;
    unacknowledgedDelivered: number;
    /** Incoming items from `otherSenders`. */
    others: number;
  };
}

const MAX_PROBLEMS = 50;

export function checkStream(input: StreamCheckInput): StreamCheckReport {
  const problems: string[] = [];
  const problem = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
    else if (problems.length === MAX_PROBLEMS) problems.push('… (more problems not shown)');
  };
  const key = (handle: string, clientId: string | null) => `${handle}\u0000${clientId}`;

  // The timeline itself: positions strictly increasing (the caller read it in order).
  const timeline = input.receiverTimeline;
  for (let i = 1; i < timeline.length; i++) {
    if ((timeline[i] as TimelineItem).pos <= (timeline[i - 1] as TimelineItem).pos) {
      problem(`receiver timeline is not in position order at index ${i} (pos ${(timeline[i] as TimelineItem).pos})`);
    }
  }
  const incoming = timeline.filter((t) => t.dir === 'in');

  // Gap-free, ordered sequence numbers 1..N.
  const bySeq = new Map<number, TimelineItem>();
  incoming.forEach((t, i) => {
    if (bySeq.has(t.seq)) problem(`sequence ${t.seq} delivered twice (positions ${(bySeq.get(t.seq) as TimelineItem).pos} and ${t.pos})`);
    else bySeq.set(t.seq, t);
    if (t.seq !== i + 1) problem(`incoming item #${i + 1} (pos ${t.pos}) has sequence ${t.seq}: the stream has a gap or is out of order`);
  });

  // No duplicates by sender and client id; nothing invented.
  const sent = new Map<string, { sender: SenderLog; item: SentItem; index: number }>();
  for (const s of input.senders) {
    s.items.forEach((item, index) => {
      const k = key(s.handle, item.clientId);
      if (sent.has(k)) problem(`test bug: client id ${item.clientId} used twice by ${s.handle}`);
      sent.set(k, { sender: s, item, index });
    });
  }
  const received = new Map<string, TimelineItem>();
  const others = new Set(input.otherSenders ?? []);
  let unacknowledgedDelivered = 0;
  let otherCount = 0;
  for (const t of incoming) {
    const k = key(t.sender.handle, t.clientId);
    const prior = received.get(k);
    if (prior) {
      problem(`item ${t.sender.handle}/${t.clientId} delivered twice (sequences ${prior.seq} and ${t.seq})`);
      continue;
    }
    received.set(k, t);
    if (others.has(t.sender.handle)) {
      otherCount++;
      continue;
    }
    const origin = sent.get(k);
    if (!origin) {
      problem(`item ${t.sender.handle}/${t.clientId} at sequence ${t.seq} was never sent by any client`);
      continue;
    }
    if (origin.item.payload !== t.payload) problem(`item ${t.sender.handle}/${t.clientId} arrived with a different payload`);
    if (origin.item.acceptedSeq === null) unacknowledgedDelivered++;
  }

  // Nothing acknowledged is lost, and it arrived where the sender was told it would be.
  let acknowledged = 0;
  let sentCount = 0;
  for (const s of input.senders) {
    for (const item of s.items) {
      sentCount++;
      if (item.acceptedSeq === null) continue;
      acknowledged++;
      const t = received.get(key(s.handle, item.clientId));
      if (!t) problem(`item ${s.handle}/${item.clientId} was acknowledged (sequence ${item.acceptedSeq}) but never arrived`);
      else if (t.seq !== item.acceptedSeq) {
        problem(`item ${s.handle}/${item.clientId} was acknowledged as sequence ${item.acceptedSeq} but arrived as ${t.seq}`);
      }
    }
  }

  // Sender order: on an ordered channel, what was sent later arrives later.
  for (const s of input.senders) {
    if (!s.ordered) continue;
    let last: { seq: number; clientId: string } | null = null;
    for (const item of s.items) {
      const t = received.get(key(s.handle, item.clientId));
      if (!t) continue;
      if (last && t.seq <= last.seq) {
        problem(`${s.name} sent ${last.clientId} before ${item.clientId}, but they arrived as sequences ${last.seq} and ${t.seq}`);
      }
      last = { seq: t.seq, clientId: item.clientId };
    }
  }

  // Both ends hold the same stream.
  if (input.senderTimeline) {
    const outgoing = input.senderTimeline.filter((t) => t.dir === 'out');
    if (outgoing.length !== incoming.length) {
      problem(`the sending station holds ${outgoing.length} outgoing items but the receiver holds ${incoming.length}`);
    }
    for (const o of outgoing) {
      const t = bySeq.get(o.seq);
      if (!t) continue; // counted above
      if (t.clientId !== o.clientId || t.payload !== o.payload || t.sender.handle !== o.sender.handle) {
        problem(
          `sequence ${o.seq} differs between the two stations (${o.sender.handle}/${o.clientId} vs ${t.sender.handle}/${t.clientId})`,
        );
      }
    }
  }

  return {
    ok: problems.length === 0,
    problems,
    stats: { sent: sentCount, acknowledged, received: incoming.length - otherCount, unacknowledgedDelivered, others: otherCount },
  };
}

/**
 * What a client watching the line live (WebSocket, reconnecting with `after=` its last
 * position) received must be the timeline itself: every position once, in order, no gaps.
 */
export function checkLiveView(
  viewed: Pick<TimelineItem, 'pos'>[],
  timeline: Pick<TimelineItem, 'pos'>[],
): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  const n = Math.max(viewed.length, timeline.length);
  for (let i = 0; i < n && problems.length < MAX_PROBLEMS; i++) {
    const v = viewed[i];
    const t = timeline[i];
    if (!v) problems.push(`live view stopped at index ${i}; the timeline goes on to position ${timeline[timeline.length - 1]?.pos}`);
    else if (!t) problems.push(`live view has extra position ${v.pos} at index ${i}`);
    else if (v.pos !== t.pos) problems.push(`live view has position ${v.pos} at index ${i} where the timeline has ${t.pos}`);
    if (!v || !t) break;
  }
  return { ok: problems.length === 0, problems };
}
