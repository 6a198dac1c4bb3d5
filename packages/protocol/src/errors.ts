// Stable error codes. A client or a peer station branches on `code`; `message` is for people.
// Codes are never renamed once shipped: add new ones instead.
import { CALL_ERROR_STATUS } from './call-errors.js';

export const ERROR_STATUS = {
  ...CALL_ERROR_STATUS,
  BAD_REQUEST: 400,
  MALFORMED_JSON: 400,
  VALIDATION_FAILED: 400,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHENTICATED: 401,
  BAD_CREDENTIALS: 401,
  RATE_LIMITED: 429,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  NOT_A_SEAT_HOLDER: 403,
  HANDLE_TAKEN: 409,
  ENROLLMENT_INVALID: 401,
  LINE_EXISTS: 409,
  LINE_NOT_FOUND: 404,
  INVITATION_INVALID: 400,
  INVITATION_USED: 409,
  INVITATION_EXPIRED: 410,
  INVITATION_TAMPERED: 400,
  PEER_UNREACHABLE: 502,
  PEER_REFUSED: 502,
  FED_UNSIGNED: 401,
  FED_BAD_SIGNATURE: 401,
  FED_UNKNOWN_STATION: 401,
  FED_REPLAY: 409,
  FED_CLOCK_SKEW: 401,
  FED_WRONG_LINE: 403,
  SEQ_GAP: 409,
  SEQ_CONFLICT: 409,
  /** An item on the peer's stream that is not MLS of this line (or a commit/Welcome from the non-hub side). */
  FED_BAD_ITEM: 422,
  /** A member sent something other than an MLS application message of the line's group. */
  NOT_ENCRYPTED: 422,
  /** Translations are made by members whose role is interpreter. */
  NOT_INTERPRETER: 403,
  /** A readout cites a record entry that does not exist or is not a contact (a call event, message traffic). */
  READOUT_CITATION_INVALID: 422,
  /** Readouts are drafted and published by press officers (and admins). */
  NOT_PRESS_OFFICER: 403,
  /** A readout already published cannot be published or changed again. */
  READOUT_PUBLISHED: 409,
  /** A language tag that is not BCP 47, given twice, or a list of working languages that is empty or too long. */
  LANG_INVALID: 400,
  WRONG_EPOCH: 409,
  E2EE_REFUSED: 400,
  DATA_DIR_MISSING: 500,
  DATA_DIR_CORRUPT: 500,
  DATA_DIR_EXISTS: 500,
  /** A station setting (station.json or its environment override) that cannot be used. */
  CONFIG_INVALID: 500,
  PROFILE_MISSING: 500,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; hint?: string };
}

export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  override readonly name = 'ParleyError';

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.code = code;
    this.hint = hint;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) } };
  }

  /** One line for a terminal: what went wrong, what to do, and the code to search for. */
  toLine(): string {
    return `${this.message}${this.hint ? ` — ${this.hint}` : ''} [${this.code}]`;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}

/** Rebuild a ParleyError from a response body, so remote errors look like local ones. */
export function errorFromBody(body: unknown, fallbackMessage: string): ParleyError {
  if (body && typeof body === 'object' && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (e && typeof e === 'object') {
      const { code, message, hint } = e as Record<string, unknown>;
      if (isErrorCode(code) && typeof message === 'string') {
        return new ParleyError(code, message, typeof hint === 'string' ? hint : undefined);
      }
    }
  }
  return new ParleyError('INTERNAL', fallbackMessage);
}
