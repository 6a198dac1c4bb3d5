// Errors thrown to the station's own code (a bug or a broken invariant on our side, never
// the peer's input, which gets a result value instead).

export type RecordErrorCode =
  | 'MALFORMED' // the value does not match its schema
  | 'ENTRY_OUT_OF_ORDER' // an entry's index is not the next one, or its time is earlier than the last
  | 'ENTRY_INVALID' // an entry breaks a rule of the record (see rules.ts)
  | 'CITATION_MISSING' // a readout cites an entry that does not exist or is not a contact
  | 'LINE_MISMATCH' // an entry or head of another line
  | 'OUT_OF_RANGE' // a size or index beyond the log
  | 'BAD_SIGNATURE' // a head signature that does not verify
  | 'UNKNOWN_KEY' // a station key that is not one of the line's
  | 'ROOT_MISMATCH'; // a head whose root is not the log's root at its size

export class RecordError extends Error {
  override readonly name = 'RecordError';
  readonly code: RecordErrorCode;
  /** Every problem found, when there were several (the message names the first). */
  readonly details: readonly string[];

  constructor(code: RecordErrorCode, message: string, details: readonly string[] = []) {
    super(message);
    this.code = code;
    this.details = details;
  }
}
