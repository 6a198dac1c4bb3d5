import { deserializeGroup, E2eeError, type GroupState, type LinePolicy, processMessage, serializeGroup } from '@parley/e2ee';

/** What the recorder learned from one message of its line's group. */
export type Decrypted =
  | { ok: true; kind: 'application'; sender: { station: string; handle: string; deviceId: string }; plaintext: Uint8Array }
  | { ok: true; kind: 'commit'; removedSelf: boolean }
  | { ok: false; code: string; message: string };

/** A group state held as a value (this thread) or as its serialization (to cross to another). */
export type StateRef = { state: GroupState } | { bytes: Uint8Array };

export const stateOf = (ref: StateRef): GroupState => ('state' in ref ? ref.state : deserializeGroup(ref.bytes));
export const bytesOf = (ref: StateRef): Uint8Array => ('bytes' in ref ? ref.bytes : serializeGroup(ref.state));

/**
 * Process a run of the line's messages in timeline order from `state`: every decryption moves
 * the group's state on, a refused message leaves it as it was. Pure computation (no I/O), so it
 * runs the same in the recorder's worker thread and, as the fallback, on the station's own
 * thread (`between` lets deliveries waiting there go first between messages).
 */
export async function decryptRun(
  state: GroupState,
  payloads: readonly Uint8Array[],
  policy: LinePolicy,
  between?: () => Promise<void>,
): Promise<{ state: GroupState; changed: boolean; results: Decrypted[] }> {
  const results: Decrypted[] = [];
  let changed = false;
  for (const payload of payloads) {
    if (between) await between();
    try {
      const res = await processMessage(state, payload, policy);
      state = res.state;
      changed = true;
      if (res.kind === 'application') {
        const { station, handle, deviceId } = res.sender;
        results.push({ ok: true, kind: 'application', sender: { station, handle, deviceId }, plaintext: res.plaintext });
      } else results.push({ ok: true, kind: 'commit', removedSelf: res.removedSelf });
    } catch (e) {
      results.push({ ok: false, code: e instanceof E2eeError ? e.code : 'ERROR', message: (e as Error).message });
    }
  }
  return { state, changed, results };
}
