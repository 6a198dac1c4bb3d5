// Stable error codes for the end-to-end layer. Callers (web app, CLI, the station's recorder)
// branch on `code`; `message` is for people. Codes are never renamed once shipped.
//
// Every operation that throws leaves the caller's state untouched: states are immutable values
// and a failed operation simply returns no new one.
export const E2EE_ERROR_CODES = [
  /** Bytes that do not decode as the MLS object (or Parley record) the call expects. */
  'MALFORMED',
  /** A well-formed message of a kind this call does not take (a Welcome passed to decrypt…). */
  'UNEXPECTED_MESSAGE',
  /** A message kind Parley does not use: standalone proposals, external senders, PSKs, reinit. */
  'UNSUPPORTED_MESSAGE',
  /** The message belongs to another group (another line). */
  'WRONG_GROUP',
  /** The message is for an epoch this state cannot use: a later one (process earlier commits
   * first) or an earlier one outside the retention window. */
  'WRONG_EPOCH',
  /** A commit for an epoch this state has already left: a replay, or a losing concurrent commit. */
  'REPLAYED_HANDSHAKE',
  /** An application message whose key was already used (a replay) or already dropped. */
  'REPLAYED_MESSAGE',
  /** The sender is not a member of the group in that epoch (blank leaf, external sender). */
  'UNKNOWN_SENDER',
  /** Our own message came back to us; the sender already holds the resulting state. */
  'OWN_MESSAGE',
  /** A credential with no valid station binding: malformed, forged, or signed by a station other
   * than the one it names. */
  'BAD_BINDING',
  /** A validly bound device whose (station, handle) does not hold a seat on this line. */
  'NOT_SEATED',
  /** A committer tried to change the station, handle, device or signature key of its leaf. */
  'IDENTITY_CHANGED',
  /** A key package whose signatures or structure do not verify. */
  'BAD_KEY_PACKAGE',
  /** A key package, Welcome or state using a ciphersuite this group or device does not use. */
  'WRONG_CIPHERSUITE',
  /** A key package outside its lifetime. */
  'KEY_PACKAGE_EXPIRED',
  /** The device is already in the group. */
  'ALREADY_MEMBER',
  /** No member at that leaf. */
  'UNKNOWN_MEMBER',
  /** A commit that does not verify or does not apply (signature, membership tag, confirmation tag,
   * tree, proposals Parley does not allow). */
  'BAD_COMMIT',
  /** A Welcome that does not verify or cannot be applied. */
  'BAD_WELCOME',
  /** A Welcome that is not addressed to any of the key packages offered. */
  'NO_MATCHING_KEY_PACKAGE',
  /** An application message that does not decrypt or whose signature does not verify. */
  'DECRYPT_FAILED',
  /** This device is no longer in the group (it processed its own removal). */
  'NOT_A_MEMBER',
  /** The device has no station binding yet, so it cannot join or create groups. */
  'DEVICE_NOT_BOUND',
  /** A caller mistake: bad names, empty lists, removing oneself, … */
  'INVALID_ARGUMENT',
  /** Serialized device or group state that cannot be read back. */
  'BAD_STATE',
] as const;

export type E2eeErrorCode = (typeof E2EE_ERROR_CODES)[number];

export class E2eeError extends Error {
  readonly code: E2eeErrorCode;
  override readonly name = 'E2eeError';

  constructor(code: E2eeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** One line for a terminal or a log. */
  toLine(): string {
    return `${this.message} [${this.code}]`;
  }
}

export function isE2eeError(value: unknown, code?: E2eeErrorCode): value is E2eeError {
  return value instanceof E2eeError && (code === undefined || value.code === code);
}
