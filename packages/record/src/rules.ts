// The rules an entry must keep given the entries before it. One implementation serves the
// log (append refuses a breaking entry) and the verifier (which reports every break), so a
// station can never write a record its own verifier rejects.
import { type Direction, isContact, type RecordEntry, unreachable } from './entries.js';

export type RuleCode = 'ENTRY_OUT_OF_ORDER' | 'ENTRY_INVALID' | 'CITATION_MISSING';

export interface RuleViolation {
  code: RuleCode;
  entryIndex: number;
  message: string;
}

/**
 * Folds over entries in log order. `check` is pure; `accept` moves the state on. Forward gaps
 * in `index` are not this class's business (the log requires index = size; the verifier
 * reports missing entries itself); a repeated or decreasing index, or a time earlier than
 * the previous entry's, is.
 */
export class RecordRules {
  private last: RecordEntry | undefined;
  private readonly seen = new Map<number, RecordEntry>();
  private readonly calls = new Map<string, number>();
  private readonly tests = new Map<string, number>();
  private readonly readouts = new Map<string, number>();
  private readonly lastSeq: Record<Direction, number> = { inviter_to_acceptor: 0, acceptor_to_inviter: 0 };
  private rosterEpoch = -1;

  check(entry: RecordEntry): RuleViolation[] {
    const out: RuleViolation[] = [];
    const i = entry.index;
    const violation = (code: RuleCode, message: string) => out.push({ code, entryIndex: i, message });

    const last = this.last;
    if (last) {
      const order: string[] = [];
      if (this.seen.has(i)) order.push(`entry ${i} appears twice`);
      else if (i < last.index) order.push(`entry ${i} comes after entry ${last.index}`);
      if (entry.at < last.at) order.push(`its time ${entry.at} is earlier than ${last.at} of entry ${last.index} before it`);
      if (order.length > 0) violation('ENTRY_OUT_OF_ORDER', order.join('; '));
    }

    if ((i === 0) !== (entry.type === 'line_linked')) {
      violation('ENTRY_INVALID', i === 0 ? `entry 0 must be line_linked, not ${entry.type}` : 'line_linked may only be entry 0');
    }

    switch (entry.type) {
      case 'call_requested': {
        const earlier = this.calls.get(entry.callId);
        if (earlier !== undefined) violation('ENTRY_INVALID', `call ${entry.callId} was already requested in entry ${earlier}`);
        break;
      }
      case 'call_acknowledged':
      case 'call_accepted':
      case 'call_declined':
      case 'call_cancelled':
      case 'call_expired':
      case 'call_unanswered':
      case 'call_escalated':
      case 'call_ringing':
      case 'call_connected':
      case 'call_joined':
      case 'call_left':
      case 'call_ended':
        if (!this.calls.has(entry.callId)) violation('ENTRY_INVALID', `${entry.type}: no earlier entry requests call ${entry.callId}`);
        break;
      case 'test_sent': {
        const earlier = this.tests.get(entry.testId);
        if (earlier !== undefined) violation('ENTRY_INVALID', `test ${entry.testId} was already sent in entry ${earlier}`);
        break;
      }
      case 'test_acknowledged':
      case 'test_unanswered':
        if (!this.tests.has(entry.testId)) violation('ENTRY_INVALID', `${entry.type}: no earlier entry sends test ${entry.testId}`);
        break;
      case 'readout_published': {
        const earlier = this.readouts.get(entry.readoutId);
        if (earlier !== undefined) violation('ENTRY_INVALID', `readout ${entry.readoutId} was already published in entry ${earlier}`);
        for (const cited of entry.cites ?? []) {
          const target = this.seen.get(cited);
          if (cited >= i || !target) {
            violation('CITATION_MISSING', `readout ${entry.readoutId} cites entry ${cited}, which does not exist before it (entry ${i})`);
          } else if (!isContact(target))
            violation('CITATION_MISSING', `readout ${entry.readoutId} cites entry ${cited} (${target.type}), which is not a contact`);
        }
        break;
      }
      case 'items': {
        const first = entry.hashes[0]!.seq;
        if (first <= this.lastSeq[entry.dir]) {
          violation('ENTRY_INVALID', `items ${entry.dir} from seq ${first}: seq ${this.lastSeq[entry.dir]} was already recorded`);
        }
        break;
      }
      case 'roster_changed':
        if (entry.epoch <= this.rosterEpoch)
          violation('ENTRY_INVALID', `roster epoch ${entry.epoch} does not follow epoch ${this.rosterEpoch}`);
        break;
      case 'line_linked':
      case 'policy_set':
        break;
      default:
        return unreachable(entry);
    }
    return out;
  }

  /** Take the entry into the state, whether or not it kept the rules (the verifier goes on past a break). */
  accept(entry: RecordEntry): void {
    this.last = entry;
    if (!this.seen.has(entry.index)) this.seen.set(entry.index, entry);
    switch (entry.type) {
      case 'call_requested':
        if (!this.calls.has(entry.callId)) this.calls.set(entry.callId, entry.index);
        break;
      case 'test_sent':
        if (!this.tests.has(entry.testId)) this.tests.set(entry.testId, entry.index);
        break;
      case 'readout_published':
        if (!this.readouts.has(entry.readoutId)) this.readouts.set(entry.readoutId, entry.index);
        break;
      case 'items': {
        const lastSeq = entry.hashes[entry.hashes.length - 1]!.seq;
        this.lastSeq[entry.dir] = Math.max(this.lastSeq[entry.dir], lastSeq);
        break;
      }
      case 'roster_changed':
        this.rosterEpoch = Math.max(this.rosterEpoch, entry.epoch);
        break;
      case 'line_linked':
      case 'call_acknowledged':
      case 'call_accepted':
      case 'call_declined':
      case 'call_cancelled':
      case 'call_expired':
      case 'call_unanswered':
      case 'call_escalated':
      case 'call_ringing':
      case 'call_connected':
      case 'call_joined':
      case 'call_left':
      case 'call_ended':
      case 'test_acknowledged':
      case 'test_unanswered':
      case 'policy_set':
        break;
      default:
        unreachable(entry);
    }
  }
}
