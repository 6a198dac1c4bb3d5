// Who is in a group: every device of both sides, each as its station vouched for it. Clients show
// this list and its changes at every epoch, so that no device can join a line unseen.
import { sha256 } from '@noble/hashes/sha2.js';
import type { RatchetTree } from 'ts-mls';
import { bindingFromCredential, type SignedDeviceBinding } from './binding.js';
import { toHex } from './encoding.js';
import { E2eeError } from './errors.js';

/** A device as its station vouched for it. */
export interface MemberDevice {
  readonly station: string;
  readonly handle: string;
  readonly deviceId: string;
  /** First 20 bytes of SHA-256 over the device's signature key, as ten groups of four hex digits. */
  readonly signatureKeyFingerprint: string;
  /** When the station vouched for this device (ms since the Unix epoch). */
  readonly issuedAt: number;
}

export interface RosterEntry extends MemberDevice {
  /** Position in the MLS tree; stable while the device stays, reused after it leaves. */
  readonly leafIndex: number;
}

export function signatureKeyFingerprint(signatureKey: Uint8Array): string {
  return toHex(sha256(signatureKey).subarray(0, 20)).match(/.{4}/g)!.join(' ');
}

export function memberDevice(binding: SignedDeviceBinding): MemberDevice {
  return Object.freeze({
    station: binding.station,
    handle: binding.handle,
    deviceId: binding.deviceId,
    signatureKeyFingerprint: signatureKeyFingerprint(binding.signatureKey),
    issuedAt: binding.issuedAt,
  });
}

export function rosterEntry(leafIndex: number, binding: SignedDeviceBinding): RosterEntry {
  return Object.freeze({ leafIndex, ...memberDevice(binding) });
}

/** The member at a leaf, or undefined for a blank leaf. */
export function leafMember(tree: RatchetTree, leafIndex: number): RosterEntry | undefined {
  const node = tree[leafIndex * 2];
  if (node?.nodeType !== 'leaf') return undefined;
  const { credential, signaturePublicKey } = node.leaf;
  if (credential.credentialType !== 'basic') throw new E2eeError('BAD_STATE', `leaf ${leafIndex} has no Parley credential`);
  // Every leaf was checked against the line policy when it entered the tree; decoding cannot fail
  // for a state built through this package.
  return rosterEntry(leafIndex, bindingFromCredential(credential.identity, signaturePublicKey));
}

export function rosterOfTree(tree: RatchetTree): RosterEntry[] {
  const out: RosterEntry[] = [];
  for (let leaf = 0; leaf * 2 < tree.length; leaf++) {
    const m = leafMember(tree, leaf);
    if (m) out.push(m);
  }
  return out;
}

/** A device's identity across epochs: the leaf index may change, the device and its key may not. */
export function deviceKey(e: MemberDevice): string {
  return `${e.station}\n${e.handle}\n${e.deviceId}\n${e.signatureKeyFingerprint}`;
}

export interface RosterDiff {
  readonly added: readonly RosterEntry[];
  readonly removed: readonly RosterEntry[];
}

/** What changed from roster `before` to roster `after`. */
export function diffRoster(before: readonly RosterEntry[], after: readonly RosterEntry[]): RosterDiff {
  const was = new Set(before.map(deviceKey));
  const is = new Set(after.map(deviceKey));
  return {
    added: after.filter((e) => !was.has(deviceKey(e))),
    removed: before.filter((e) => !is.has(deviceKey(e))),
  };
}
