// @parley/e2ee: the end-to-end encryption core. Pure functions over immutable values, no I/O:
// callers move the bytes and persist the states this package returns.
export * from './errors.js';
export {
  PREFERRED_CIPHERSUITE,
  FALLBACK_CIPHERSUITE,
  SUPPORTED_CIPHERSUITES,
  type SupportedCiphersuite,
  isSupportedCiphersuite,
} from './ciphersuite.js';
export {
  type DeviceBinding,
  type SignedDeviceBinding,
  type StationSigner,
  bindingSigningInput,
  signBinding,
  verifyBinding,
  encodeBinding,
  decodeBinding,
} from './binding.js';
export type { Seat, LinePolicy } from './policy.js';
export { RECORDER_HANDLE, type LineSide, type LineSeats, currentSeats, rememberSeats, linePolicyFrom } from './line-policy.js';
export {
  type SelfUpdateSchedule,
  type SelfUpdateClock,
  type SelfUpdateOutcome,
  type SelfUpdateSteps,
  type SelfUpdateRetry,
  SELF_UPDATE_SCHEDULE,
  isSelfUpdateDue,
  offerSelfUpdateWithRetry,
} from './self-update.js';
export { type DeviceIdentity, type NewDevice, generateDevice, attachBinding, exportDevice, importDevice } from './device.js';
export {
  type KeyPackageBundle,
  type KeyPackageOptions,
  type ValidKeyPackage,
  type ValidateKeyPackageOptions,
  DEFAULT_KEY_PACKAGE_LIFETIME_MS,
  createKeyPackage,
  validateKeyPackage,
} from './key-package.js';
export { type MemberDevice, type RosterEntry, type RosterDiff, diffRoster, signatureKeyFingerprint } from './roster.js';
export { type MessageInfo, peekMessage } from './message.js';
export {
  type GroupState,
  type CreateGroupOptions,
  type JoinOptions,
  type Joined,
  type CommitOutcome,
  type AddOutcome,
  type AddOptions,
  type ReceivedCommit,
  type ReceivedApplication,
  type Received,
  type EncryptOptions,
  MAX_PAST_EPOCHS,
  createGroup,
  joinFromWelcome,
  addMembers,
  removeMembers,
  updateOwnKeys,
  processMessage,
  encrypt,
  decrypt,
  roster,
  exportSecret,
  serializeGroup,
  deserializeGroup,
} from './group.js';
