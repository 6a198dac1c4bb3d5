// One MLS group per line, holding every device of both sides. States are immutable values: each
// operation takes a state and returns a new one (with the bytes to send), never changing its
// input, so a failed operation leaves the caller exactly where it was, and a caller that fails to
// persist a new state can retry from the old one.
//
// Ordering: the inviting station (the hub) orders a line's commits. A member that creates a
// commit gets the would-be next state back at once but should adopt it only once the hub has
// accepted that commit; if the hub orders someone else's commit first, the member processes that
// one against its old state and drops its own (see README).
import {
  type AuthenticationService,
  type ClientConfig,
  type ClientState,
  createApplicationMessage,
  createCommit,
  createGroup as mlsCreateGroup,
  decodeGroupState,
  defaultCapabilities,
  defaultKeyPackageEqualityConfig,
  defaultKeyRetentionConfig,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  emptyPskIndex,
  encodeGroupState,
  encodeMlsMessage,
  generateKeyPackageWithKey,
  type IncomingMessageCallback,
  joinGroup,
  mlsExporter,
  type PrivateMessage,
  type Proposal,
  type PublicMessage,
  processPrivateMessage,
  processPublicMessage,
} from 'ts-mls';
import { makeKeyPackageRef } from 'ts-mls/keyPackage.js';
import { CryptoError, CryptoVerificationError, ValidationError } from 'ts-mls/mlsError.js';
import { decryptSenderData } from 'ts-mls/privateMessage.js';
import { ciphersuiteFromId, ciphersuiteId, isSupportedCiphersuite, type SupportedCiphersuite, suiteImpl } from './ciphersuite.js';
import { type DeviceIdentity, deviceSigningKey } from './device.js';
import { bytesEqual, Reader, toHex, utf8, Writer } from './encoding.js';
import { E2eeError, type E2eeErrorCode } from './errors.js';
import {
  checkKeyPackage,
  DEFAULT_KEY_PACKAGE_LIFETIME_MS,
  decodeKeyPackage,
  deviceCredential,
  readKeyPackageSecrets,
} from './key-package.js';
import { decodeMls, epochNumber } from './message.js';
import { assertPolicy, CheckLog, checkCredential, denyAllAuthService, type LinePolicy, policyAuthService } from './policy.js';
import { deviceKey, diffRoster, leafMember, type RosterEntry, rosterOfTree } from './roster.js';

/** A member's view of a line's group at one epoch. Opaque beyond these fields; frozen. */
export interface GroupState {
  readonly groupId: Uint8Array;
  readonly epoch: number;
  readonly ownLeafIndex: number;
  readonly ciphersuite: SupportedCiphersuite;
  /** False once this device has processed its own removal. */
  readonly active: boolean;
  /** How many past epochs' keys this member keeps for late application messages (0: none). */
  readonly pastEpochs: number;
}

interface Inner {
  readonly mls: ClientState;
  readonly suite: SupportedCiphersuite;
  readonly pastEpochs: number;
}

const inners = new WeakMap<GroupState, Inner>();

/** Keys of at most this many past epochs may be kept: each holds a copy of the trees. */
export const MAX_PAST_EPOCHS = 16;

function clientConfig(authService: AuthenticationService, pastEpochs: number): ClientConfig {
  return {
    keyRetentionConfig: { ...defaultKeyRetentionConfig, retainKeysForEpochs: pastEpochs },
    // Lifetimes are checked by checkKeyPackage against the caller's clock, not here.
    lifetimeConfig: { ...defaultLifetimeConfig, validateLifetimeOnReceive: false },
    keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
    paddingConfig: defaultPaddingConfig,
    authService,
  };
}

function wrap(mls: ClientState, suite: SupportedCiphersuite, pastEpochs: number): GroupState {
  // Stored states carry a deny-all credential callback: each operation installs the policy it
  // was given, and no old policy lingers in a state.
  const stored: ClientState = { ...mls, clientConfig: clientConfig(denyAllAuthService, pastEpochs) };
  const state: GroupState = Object.freeze({
    groupId: mls.groupContext.groupId.slice(),
    epoch: epochNumber(mls.groupContext.epoch),
    ownLeafIndex: mls.privatePath.leafIndex,
    ciphersuite: suite,
    active: mls.groupActiveState.kind === 'active',
    pastEpochs,
  });
  inners.set(state, { mls: stored, suite, pastEpochs });
  return state;
}

function innerOf(state: GroupState): Inner {
  const inner = inners.get(state);
  if (!inner) throw new E2eeError('INVALID_ARGUMENT', 'not a group state made by this package (use deserializeGroup for stored bytes)');
  return inner;
}

function withAuth(inner: Inner, authService: AuthenticationService): ClientState {
  return { ...inner.mls, clientConfig: clientConfig(authService, inner.pastEpochs) };
}

function requireActive(inner: Inner): void {
  const kind = inner.mls.groupActiveState.kind;
  if (kind !== 'active') throw new E2eeError('NOT_A_MEMBER', `this device is no longer in the group (${kind})`);
}

function checkPastEpochs(n: number | undefined): number {
  const v = n ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > MAX_PAST_EPOCHS) {
    throw new E2eeError('INVALID_ARGUMENT', `pastEpochs must be an integer from 0 to ${MAX_PAST_EPOCHS}`);
  }
  return v;
}

/** Turn whatever ts-mls threw into our error, preferring the reason our credential check gave. */
function fail(e: unknown, log: CheckLog | undefined, fallback: E2eeErrorCode, what: string): never {
  if (e instanceof E2eeError) throw e;
  const refusal = log?.first();
  if (refusal) throw new E2eeError(refusal.code, refusal.reason, { cause: e });
  const detail = e instanceof Error ? e.message : String(e);
  throw new E2eeError(fallback, `${what}: ${detail}`, { cause: e });
}

function groupIdBytes(groupId: Uint8Array | string): Uint8Array {
  const bytes = typeof groupId === 'string' ? utf8(groupId) : groupId;
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > 255) {
    throw new E2eeError('INVALID_ARGUMENT', 'group id must be 1 to 255 bytes');
  }
  return bytes.slice();
}

function checkGroup(inner: Inner, groupId: Uint8Array): void {
  if (!bytesEqual(groupId, inner.mls.groupContext.groupId)) throw new E2eeError('WRONG_GROUP', 'the message is for another group');
}

// ---------------------------------------------------------------------------------------------
// Creating and joining

export interface CreateGroupOptions {
  /** The line's id: the group id every member will see. */
  readonly groupId: Uint8Array | string;
  readonly policy: LinePolicy;
  readonly now?: number;
  readonly pastEpochs?: number;
}

/** The hub (the inviting station's recorder, or a device of its) starts the line's group, alone. */
export async function createGroup(device: DeviceIdentity, opts: CreateGroupOptions): Promise<GroupState> {
  assertPolicy(opts.policy);
  const pastEpochs = checkPastEpochs(opts.pastEpochs);
  const credential = deviceCredential(device);
  const own = checkCredential(credential, device.signaturePublicKey, opts.policy);
  if (!own.ok) throw new E2eeError(own.code, own.reason);
  const impl = await suiteImpl(device.ciphersuite);
  const now = opts.now ?? Date.now();
  const lifetime = {
    notBefore: BigInt(Math.floor(now / 1000)),
    notAfter: BigInt(Math.floor((now + DEFAULT_KEY_PACKAGE_LIFETIME_MS) / 1000)),
  };
  const signKey = deviceSigningKey(device);
  const kp = await generateKeyPackageWithKey(
    credential,
    defaultCapabilities(),
    lifetime,
    [],
    { signKey, publicKey: device.signaturePublicKey },
    impl,
  );
  let mls: ClientState;
  try {
    mls = await mlsCreateGroup(
      groupIdBytes(opts.groupId),
      kp.publicPackage,
      kp.privatePackage,
      [],
      impl,
      clientConfig(denyAllAuthService, pastEpochs),
    );
  } catch (e) {
    fail(e, undefined, 'INVALID_ARGUMENT', 'cannot create group');
  }
  return wrap(mls, device.ciphersuite, pastEpochs);
}

export interface JoinOptions {
  /** Refuse a Welcome into any other group (the line the device expects to join). */
  readonly expectedGroupId?: Uint8Array | string;
  readonly pastEpochs?: number;
}

export interface Joined {
  readonly state: GroupState;
  /** Which of the offered key packages the Welcome used: delete its secrets now. */
  readonly keyPackageRef: string;
  readonly roster: readonly RosterEntry[];
}

/**
 * A device joins from a Welcome, given the secrets of its pending key packages. Before accepting,
 * it checks the whole tree it is joining: every leaf's binding and seat, and every signature.
 */
export async function joinFromWelcome(
  device: DeviceIdentity,
  welcomeBytes: Uint8Array,
  keyPackageSecrets: readonly Uint8Array[],
  policy: LinePolicy,
  opts: JoinOptions = {},
): Promise<Joined> {
  assertPolicy(policy);
  const pastEpochs = checkPastEpochs(opts.pastEpochs);
  deviceCredential(device); // must be bound
  const msg = decodeMls(welcomeBytes);
  if (msg.wireformat !== 'mls_welcome') throw new E2eeError('UNEXPECTED_MESSAGE', `expected a Welcome, got ${msg.wireformat}`);
  const welcome = msg.welcome;
  if (welcome.cipherSuite !== device.ciphersuite) {
    throw new E2eeError('WRONG_CIPHERSUITE', `the Welcome uses ${welcome.cipherSuite}, this device ${device.ciphersuite}`);
  }
  const impl = await suiteImpl(device.ciphersuite);
  let chosen: { pending: ReturnType<typeof readKeyPackageSecrets>; ref: Uint8Array } | undefined;
  for (const secrets of keyPackageSecrets) {
    const pending = readKeyPackageSecrets(secrets);
    const ref = await makeKeyPackageRef(pending.keyPackage, impl.hash);
    if (welcome.secrets.some((s) => bytesEqual(s.newMember, ref))) {
      chosen = { pending, ref };
      break;
    }
  }
  if (!chosen) throw new E2eeError('NO_MATCHING_KEY_PACKAGE', 'the Welcome is not addressed to any of these key packages');
  const { keyPackage, privateKeys } = chosen.pending;
  if (!bytesEqual(keyPackage.leafNode.signaturePublicKey, device.signaturePublicKey)) {
    throw new E2eeError('INVALID_ARGUMENT', 'that key package belongs to another device');
  }
  const log = new CheckLog();
  let mls: ClientState;
  try {
    mls = await joinGroup(
      welcome,
      keyPackage,
      { ...privateKeys, signaturePrivateKey: deviceSigningKey(device) },
      emptyPskIndex,
      impl,
      undefined,
      undefined,
      clientConfig(policyAuthService(policy, log), pastEpochs),
    );
  } catch (e) {
    fail(e, log, 'BAD_WELCOME', 'cannot join from this Welcome');
  }
  if (opts.expectedGroupId !== undefined && !bytesEqual(groupIdBytes(opts.expectedGroupId), mls.groupContext.groupId)) {
    throw new E2eeError('WRONG_GROUP', 'the Welcome is for another group');
  }
  const state = wrap(mls, device.ciphersuite, pastEpochs);
  return { state, keyPackageRef: toHex(chosen.ref), roster: rosterOfTree(mls.ratchetTree) };
}

// ---------------------------------------------------------------------------------------------
// Commits we make

export interface CommitOutcome {
  /** The next state. Adopt it once the hub has accepted `commit`. */
  readonly state: GroupState;
  /** MLSMessage (PublicMessage) bytes for every other member, via the hub. */
  readonly commit: Uint8Array;
  readonly epoch: number;
  readonly added: readonly RosterEntry[];
  readonly removed: readonly RosterEntry[];
}

export interface AddOutcome extends CommitOutcome {
  /** MLSMessage (Welcome) bytes for the added devices. */
  readonly welcome: Uint8Array;
}

async function commitWith(
  inner: Inner,
  proposals: Proposal[],
  auth: AuthenticationService,
  log: CheckLog | undefined,
): Promise<CommitOutcome & { welcome: Uint8Array | undefined }> {
  const impl = await suiteImpl(inner.suite);
  let res: Awaited<ReturnType<typeof createCommit>>;
  try {
    res = await createCommit(
      { state: withAuth(inner, auth), cipherSuite: impl },
      // Public so that both stations can see (and record) every roster change; the tree travels in
      // the Welcome so joiners need nothing else.
      { extraProposals: proposals, ratchetTreeExtension: true, wireAsPublicMessage: true },
    );
  } catch (e) {
    fail(e, log, 'INVALID_ARGUMENT', 'cannot create commit');
  }
  const { added, removed } = diffRoster(rosterOfTree(inner.mls.ratchetTree), rosterOfTree(res.newState.ratchetTree));
  return {
    state: wrap(res.newState, inner.suite, inner.pastEpochs),
    commit: encodeMlsMessage(res.commit),
    welcome: res.welcome ? encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: res.welcome }) : undefined,
    epoch: epochNumber(res.newState.groupContext.epoch),
    added,
    removed,
  };
}

export interface AddOptions {
  readonly now?: number;
}

/** Add devices from their key packages, each checked against the line policy first. */
export async function addMembers(
  state: GroupState,
  keyPackages: readonly Uint8Array[],
  policy: LinePolicy,
  opts: AddOptions = {},
): Promise<AddOutcome> {
  const inner = innerOf(state);
  requireActive(inner);
  assertPolicy(policy);
  if (keyPackages.length === 0) throw new E2eeError('INVALID_ARGUMENT', 'no key packages to add');
  const now = opts.now ?? Date.now();
  const present = rosterOfTree(inner.mls.ratchetTree);
  const seen = new Set(present.map((m) => `${m.station}\n${m.handle}\n${m.deviceId}`));
  const seenKeys = new Set(present.map((m) => m.signatureKeyFingerprint));
  const proposals: Proposal[] = [];
  for (const bytes of keyPackages) {
    const kp = decodeKeyPackage(bytes);
    const valid = await checkKeyPackage(kp, policy, inner.suite, now);
    const d = valid.device;
    const id = `${d.station}\n${d.handle}\n${d.deviceId}`;
    if (seen.has(id) || seenKeys.has(d.signatureKeyFingerprint)) {
      throw new E2eeError('ALREADY_MEMBER', `${d.handle}@${d.station} device ${d.deviceId} is already in the group (or added twice)`);
    }
    seen.add(id);
    seenKeys.add(d.signatureKeyFingerprint);
    proposals.push({ proposalType: 'add', add: { keyPackage: kp } });
  }
  const log = new CheckLog();
  const out = await commitWith(inner, proposals, policyAuthService(policy, log), log);
  if (!out.welcome) throw new E2eeError('INVALID_ARGUMENT', 'the commit produced no Welcome');
  return { ...out, welcome: out.welcome };
}

/** Remove devices by leaf index (from `roster`). A device cannot remove itself this way. */
export async function removeMembers(state: GroupState, leafIndexes: readonly number[]): Promise<CommitOutcome> {
  const inner = innerOf(state);
  requireActive(inner);
  if (leafIndexes.length === 0) throw new E2eeError('INVALID_ARGUMENT', 'no members to remove');
  const unique = [...new Set(leafIndexes)];
  for (const leaf of unique) {
    if (!Number.isInteger(leaf) || leaf < 0) throw new E2eeError('INVALID_ARGUMENT', `bad leaf index ${leaf}`);
    if (leaf === inner.mls.privatePath.leafIndex) throw new E2eeError('INVALID_ARGUMENT', 'a device cannot commit its own removal');
    if (!leafMember(inner.mls.ratchetTree, leaf)) throw new E2eeError('UNKNOWN_MEMBER', `no member at leaf ${leaf}`);
  }
  const { welcome: _none, ...out } = await commitWith(
    inner,
    unique.map((removed) => ({ proposalType: 'remove', remove: { removed } })),
    denyAllAuthService,
    undefined,
  );
  return out;
}

/**
 * Post-compromise security: replace this device's leaf and path keys with fresh ones (an empty
 * commit with an update path). Secrets an attacker may have copied stop working for later epochs.
 */
export async function updateOwnKeys(state: GroupState): Promise<CommitOutcome> {
  const inner = innerOf(state);
  requireActive(inner);
  const { welcome: _none, ...out } = await commitWith(inner, [], denyAllAuthService, undefined);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Messages we receive

export interface ReceivedCommit {
  readonly kind: 'commit';
  readonly state: GroupState;
  readonly epoch: number;
  readonly committer: RosterEntry;
  readonly added: readonly RosterEntry[];
  readonly removed: readonly RosterEntry[];
  /** This device was removed: `state.active` is false and the group is closed to it. */
  readonly removedSelf: boolean;
}

export interface ReceivedApplication {
  readonly kind: 'application';
  readonly state: GroupState;
  readonly epoch: number;
  readonly plaintext: Uint8Array;
  readonly sender: RosterEntry;
  /** Unencrypted (but authenticated) data the sender attached. */
  readonly authenticatedData: Uint8Array;
}

export type Received = ReceivedCommit | ReceivedApplication;

/** Process any message of the group: a commit (via the hub) or an application message. */
export async function processMessage(state: GroupState, bytes: Uint8Array, policy: LinePolicy): Promise<Received> {
  const inner = innerOf(state);
  assertPolicy(policy);
  const msg = decodeMls(bytes);
  requireActive(inner);
  switch (msg.wireformat) {
    case 'mls_public_message':
      return processCommit(inner, msg.publicMessage, policy);
    case 'mls_private_message':
      return processPrivate(inner, msg.privateMessage, policy);
    case 'mls_welcome':
      throw new E2eeError('UNEXPECTED_MESSAGE', 'a Welcome is for the joining device (joinFromWelcome)');
    case 'mls_key_package':
      throw new E2eeError('UNEXPECTED_MESSAGE', 'a key package is added with addMembers, not processed');
    case 'mls_group_info':
      throw new E2eeError('UNSUPPORTED_MESSAGE', 'Parley does not use GroupInfo messages (no external joins)');
    default: {
      const unhandled: never = msg;
      throw new E2eeError('MALFORMED', `unknown wire format ${String((unhandled as { wireformat: unknown }).wireformat)}`);
    }
  }
}

function checkHandshakeEpoch(inner: Inner, epoch: bigint): void {
  const current = inner.mls.groupContext.epoch;
  if (epoch < current) {
    throw new E2eeError(
      'REPLAYED_HANDSHAKE',
      `commit for epoch ${epoch}, but this member is already at epoch ${current}: a replay, or a commit that lost to another`,
    );
  }
  if (epoch > current) {
    throw new E2eeError(
      'WRONG_EPOCH',
      `commit for epoch ${epoch}, but this member is at epoch ${current}: process the commits in between first`,
    );
  }
}

async function processCommit(inner: Inner, pm: PublicMessage, policy: LinePolicy): Promise<ReceivedCommit> {
  const { mls } = inner;
  const content = pm.content;
  checkGroup(inner, content.groupId);
  if (content.contentType === 'proposal') {
    throw new E2eeError('UNSUPPORTED_MESSAGE', 'Parley does not use standalone proposals; members commit directly');
  }
  if (content.contentType !== 'commit') throw new E2eeError('MALFORMED', 'application data in a PublicMessage');
  if (pm.senderType !== 'member' || content.sender.senderType !== 'member') {
    throw new E2eeError('UNKNOWN_SENDER', `commits from ${content.sender.senderType} senders are not accepted (no external joins)`);
  }
  checkHandshakeEpoch(inner, content.epoch);
  const senderLeaf = content.sender.leafIndex;
  if (senderLeaf === mls.privatePath.leafIndex) {
    throw new E2eeError('OWN_MESSAGE', 'this is our own commit: adopt the state addMembers/removeMembers/updateOwnKeys returned');
  }
  const committer = leafMember(mls.ratchetTree, senderLeaf);
  if (!committer) throw new E2eeError('UNKNOWN_SENDER', `no member at leaf ${senderLeaf}`);

  let refusal: string | undefined;
  // Parley commits carry only adds and removes (plus the committer's update path). Anything else
  // (PSKs, re-init, group context changes, external init, custom proposals) is refused.
  const onlyAddsAndRemoves: IncomingMessageCallback = (incoming) => {
    if (incoming.kind !== 'commit') {
      refusal = 'standalone proposals are not used';
      return 'reject';
    }
    for (const p of incoming.proposals) {
      const t = p.proposal.proposalType;
      if (t !== 'add' && t !== 'remove') {
        refusal = `proposal type ${String(t)} is not used by Parley`;
        return 'reject';
      }
    }
    return 'accept';
  };
  const log = new CheckLog();
  const impl = await suiteImpl(inner.suite);
  let res: Awaited<ReturnType<typeof processPublicMessage>>;
  try {
    res = await processPublicMessage(withAuth(inner, policyAuthService(policy, log)), pm, emptyPskIndex, impl, onlyAddsAndRemoves);
  } catch (e) {
    fail(e, log, 'BAD_COMMIT', 'commit does not verify');
  }
  if (res.actionTaken === 'reject') throw new E2eeError('BAD_COMMIT', `commit refused: ${refusal ?? 'rejected'}`);
  const next = res.newState;
  const removedSelf = next.groupActiveState.kind === 'removedFromGroup';
  if (next.groupActiveState.kind !== 'active' && !removedSelf) throw new E2eeError('BAD_COMMIT', 'commit suspends the group');
  if (!removedSelf) {
    // MLS lets a committer replace its own leaf; Parley lets it rotate its encryption keys and
    // renew its binding, but not become another device or change its signature key.
    const after = leafMember(next.ratchetTree, senderLeaf);
    if (!after || deviceKey(after) !== deviceKey(committer)) {
      throw new E2eeError('IDENTITY_CHANGED', `leaf ${senderLeaf} (${committer.handle}@${committer.station}) tried to change its identity`);
    }
  }
  const { added, removed } = diffRoster(rosterOfTree(mls.ratchetTree), rosterOfTree(next.ratchetTree));
  return {
    kind: 'commit',
    state: wrap(next, inner.suite, inner.pastEpochs),
    epoch: epochNumber(next.groupContext.epoch),
    committer,
    added,
    removed,
    removedSelf,
  };
}

async function processPrivate(inner: Inner, pm: PrivateMessage, policy: LinePolicy): Promise<ReceivedApplication> {
  checkGroup(inner, pm.groupId);
  switch (pm.contentType) {
    case 'application':
      return decryptApplication(inner, pm, policy);
    case 'commit':
      throw new E2eeError('UNSUPPORTED_MESSAGE', 'Parley commits travel as PublicMessage, so that both stations see roster changes');
    case 'proposal':
      throw new E2eeError('UNSUPPORTED_MESSAGE', 'Parley does not use standalone proposals; members commit directly');
    default: {
      const unhandled: never = pm.contentType;
      throw new E2eeError('MALFORMED', `unknown content type ${String(unhandled)}`);
    }
  }
}

function decryptFailure(e: unknown): never {
  if (e instanceof E2eeError) throw e;
  if (e instanceof ValidationError && /in the past/.test(e.message)) {
    throw new E2eeError('REPLAYED_MESSAGE', 'this message was already decrypted (its key is used up), or arrived too far out of order', {
      cause: e,
    });
  }
  const detail = e instanceof CryptoError || e instanceof CryptoVerificationError || e instanceof Error ? e.message : String(e);
  throw new E2eeError('DECRYPT_FAILED', `message does not decrypt or verify: ${detail}`, { cause: e });
}

async function decryptApplication(inner: Inner, pm: PrivateMessage, policy: LinePolicy): Promise<ReceivedApplication> {
  const { mls } = inner;
  const current = mls.groupContext.epoch;
  let receiver: { senderDataSecret: Uint8Array; tree: ClientState['ratchetTree'] };
  if (pm.epoch === current) {
    receiver = { senderDataSecret: mls.keySchedule.senderDataSecret, tree: mls.ratchetTree };
  } else if (pm.epoch > current) {
    throw new E2eeError('WRONG_EPOCH', `message from epoch ${pm.epoch}, but this member is at epoch ${current}: process the commits first`);
  } else {
    const past = mls.historicalReceiverData.get(pm.epoch);
    if (current - pm.epoch > BigInt(inner.pastEpochs) || !past) {
      throw new E2eeError(
        'WRONG_EPOCH',
        `message from epoch ${pm.epoch}, but this member is at epoch ${current} and keeps ${inner.pastEpochs} past epoch(s)`,
      );
    }
    receiver = { senderDataSecret: past.senderDataSecret, tree: past.ratchetTree };
  }
  const impl = await suiteImpl(inner.suite);
  // Who sent it: needed to show the sender, and to refuse a sender who is not (or no longer) a
  // seated, vouched member before spending a signature check on it.
  let senderData: Awaited<ReturnType<typeof decryptSenderData>>;
  try {
    senderData = await decryptSenderData(pm, receiver.senderDataSecret, impl);
  } catch (e) {
    decryptFailure(e);
  }
  if (!senderData) throw new E2eeError('DECRYPT_FAILED', 'sender data does not decode');
  const leaf = senderData.leafIndex;
  if (leaf === mls.privatePath.leafIndex) throw new E2eeError('OWN_MESSAGE', 'this is our own message');
  const sender = leafMember(receiver.tree, leaf);
  const node = receiver.tree[leaf * 2];
  if (!sender || node?.nodeType !== 'leaf') throw new E2eeError('UNKNOWN_SENDER', `no member at leaf ${leaf} in epoch ${pm.epoch}`);
  const check = checkCredential(node.leaf.credential, node.leaf.signaturePublicKey, policy);
  if (!check.ok) throw new E2eeError(check.code, check.reason);
  let res: Awaited<ReturnType<typeof processPrivateMessage>>;
  try {
    res = await processPrivateMessage(withAuth(inner, denyAllAuthService), pm, emptyPskIndex, impl);
  } catch (e) {
    decryptFailure(e);
  }
  if (res.kind !== 'applicationMessage') throw new E2eeError('DECRYPT_FAILED', 'not an application message');
  return {
    kind: 'application',
    state: wrap(res.newState, inner.suite, inner.pastEpochs),
    epoch: epochNumber(pm.epoch),
    plaintext: res.message,
    sender,
    authenticatedData: pm.authenticatedData,
  };
}

// ---------------------------------------------------------------------------------------------
// Application messages

export interface EncryptOptions {
  /** Sent in the clear but authenticated (stations can read it): routing hints, never content. */
  readonly authenticatedData?: Uint8Array;
}

/** Encrypt application bytes for the group. Returns an MLSMessage (PrivateMessage). */
export async function encrypt(
  state: GroupState,
  plaintext: Uint8Array,
  opts: EncryptOptions = {},
): Promise<{ state: GroupState; message: Uint8Array }> {
  const inner = innerOf(state);
  requireActive(inner);
  if (!(plaintext instanceof Uint8Array)) throw new E2eeError('INVALID_ARGUMENT', 'plaintext must be a Uint8Array');
  const impl = await suiteImpl(inner.suite);
  let res: Awaited<ReturnType<typeof createApplicationMessage>>;
  try {
    res = await createApplicationMessage(withAuth(inner, denyAllAuthService), plaintext, impl, opts.authenticatedData);
  } catch (e) {
    fail(e, undefined, 'INVALID_ARGUMENT', 'cannot encrypt');
  }
  return {
    state: wrap(res.newState, inner.suite, inner.pastEpochs),
    message: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_private_message', privateMessage: res.privateMessage }),
  };
}

/** Decrypt an application message; anything else is UNEXPECTED_MESSAGE. */
export async function decrypt(
  state: GroupState,
  bytes: Uint8Array,
  policy: LinePolicy,
): Promise<{ state: GroupState; plaintext: Uint8Array; sender: RosterEntry; epoch: number }> {
  const inner = innerOf(state);
  assertPolicy(policy);
  const msg = decodeMls(bytes);
  requireActive(inner);
  if (msg.wireformat !== 'mls_private_message' || msg.privateMessage.contentType !== 'application') {
    throw new E2eeError('UNEXPECTED_MESSAGE', 'not an application message (use processMessage for commits)');
  }
  checkGroup(inner, msg.privateMessage.groupId);
  const r = await decryptApplication(inner, msg.privateMessage, policy);
  return { state: r.state, plaintext: r.plaintext, sender: r.sender, epoch: r.epoch };
}

// ---------------------------------------------------------------------------------------------
// Inspection, export, persistence

/** Every device in the group at this epoch, in leaf order. */
export function roster(state: GroupState): RosterEntry[] {
  return rosterOfTree(innerOf(state).mls.ratchetTree);
}

/** An MLS exporter secret (RFC 9420 §8.5) for this epoch, e.g. to key a call's media. */
export async function exportSecret(state: GroupState, label: string, context: Uint8Array, length: number): Promise<Uint8Array> {
  const inner = innerOf(state);
  requireActive(inner);
  if (!Number.isInteger(length) || length < 1 || length > 255) throw new E2eeError('INVALID_ARGUMENT', 'length must be 1 to 255 bytes');
  return mlsExporter(inner.mls.keySchedule.exporterSecret, label, context, length, await suiteImpl(inner.suite));
}

const STATE_MAGIC = utf8('PRLYGRP\x01');

/** The whole state as bytes (secrets included): store it encrypted at rest. */
export function serializeGroup(state: GroupState): Uint8Array {
  const inner = innerOf(state);
  return new Writer().raw(STATE_MAGIC).u16(ciphersuiteId(inner.suite)).u8(inner.pastEpochs).bytes(encodeGroupState(inner.mls)).finish();
}

export function deserializeGroup(bytes: Uint8Array): GroupState {
  const r = new Reader(bytes, 'BAD_STATE', 'group state');
  r.magic(STATE_MAGIC);
  const suite = ciphersuiteFromId(r.u16()) ?? r.fail('unsupported ciphersuite');
  const pastEpochs = r.u8();
  if (pastEpochs > MAX_PAST_EPOCHS) r.fail('bad retention');
  const body = r.bytes(1 << 30);
  r.end();
  let decoded: ReturnType<typeof decodeGroupState>;
  try {
    decoded = decodeGroupState(body, 0);
  } catch {
    decoded = undefined;
  }
  if (!decoded || decoded[1] !== body.length) throw new E2eeError('BAD_STATE', 'group state: MLS state does not decode');
  const [mls] = decoded;
  if (!isSupportedCiphersuite(mls.groupContext.cipherSuite) || mls.groupContext.cipherSuite !== suite) r.fail('ciphersuite mismatch');
  return wrap({ ...mls, clientConfig: clientConfig(denyAllAuthService, pastEpochs) }, suite, pastEpochs);
}
