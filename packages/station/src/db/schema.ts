// Timestamps are integer milliseconds since the epoch. Bytes are stored as blobs.

export interface MembersTable {
  id: string;
  handle: string;
  display_name: string;
  role: string;
  password_hash: string | null;
  enroll_secret_hash: string | null;
  enroll_expires_at: number | null;
  created_at: number;
}

export interface DevicesTable {
  id: string;
  member_id: string;
  name: string;
  created_at: number;
}

export interface SessionsTable {
  token_hash: string;
  member_id: string;
  device_id: string;
  kind: string;
  created_at: number;
  expires_at: number;
}

export interface LinesTable {
  id: string;
  name: string;
  /** 'inviter' orders handshake messages for the line (MIMI hub); 'acceptor' joined by invitation. */
  role: string;
  peer_name: string;
  peer_public_key: Uint8Array;
  /** JSON array of the peer's advertised URLs, in preference order. */
  peer_urls: string;
  created_at: number;
  /** Last local timeline position handed out (both directions share one timeline). */
  last_pos: number;
  /** Last sequence number assigned on our outgoing stream. */
  out_seq: number;
  /** Highest outgoing sequence the peer has acknowledged as durably stored. */
  out_acked: number;
  /** Highest contiguous incoming sequence we hold. */
  in_seq: number;
  /** Highest sequence the peer says it has assigned (from heartbeats). */
  peer_sent_seq: number;
  last_contact_at: number | null;
  /** Last health the running station computed, when, and its view of the peer's endpoints (JSON). */
  health: string | null;
  health_at: number | null;
  endpoints: string | null;
  /** The peer's refusal of our stream's next batch, JSON `PeerRefusalView`, null while it takes them. */
  peer_refusal: string | null;
  /** Working languages (issue 9), JSON arrays of BCP 47 tags: our side's and the peer's (null: not set). */
  own_langs: string | null;
  peer_langs: string | null;
}

export interface SeatsTable {
  line_id: string;
  member_id: string;
}

export interface PeerSeatsTable {
  line_id: string;
  handle: string;
  display_name: string;
  role: string;
}

export interface InvitationsTable {
  id: string;
  line_id: string;
  line_name: string;
  secret_hash: string;
  /** JSON array of seat handles on our side. */
  seats: string;
  expires_at: number;
  used_at: number | null;
  created_at: number;
  /** Our side's working languages for the line (JSON array), stored on the line when it is accepted. */
  langs: string | null;
}

export interface ItemsTable {
  line_id: string;
  pos: number;
  dir: string;
  seq: number;
  kind: string;
  payload: Uint8Array;
  sender_handle: string;
  client_id: string | null;
  sent_at: number;
  stored_at: number;
}

export interface FedNoncesTable {
  station_key: string;
  nonce: string;
  expires_at: number;
}

export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface MlsDevicesTable {
  device_id: string;
  member_handle: string;
  signature_key: Uint8Array;
  binding: Uint8Array;
  created_at: number;
}

export interface KeyPackagesTable {
  ref: string;
  device_id: string;
  member_handle: string;
  key_package: Uint8Array;
  not_after: number;
  created_at: number;
  handed_out_at: number | null;
}

export interface RecordersTable {
  line_id: string;
  /** Sealed exportDevice bytes. */
  device: Uint8Array;
  /** Sealed key package secrets (acceptor side, until it joins). */
  kp_secrets: Uint8Array | null;
  /** Sealed serializeGroup bytes, null until the group exists for this recorder. */
  group_state: Uint8Array | null;
  epoch: number;
  /** Last timeline position the recorder has processed. */
  cursor_pos: number;
  /** Sealed JSON of a commit (and welcome) already adopted but maybe not yet on the timeline. */
  pending: Uint8Array | null;
  /** Bumped on every write: compare-and-swap between processes. */
  version: number;
}

export interface ArchiveTable {
  line_id: string;
  pos: number;
  sender_station: string;
  sender_handle: string;
  sender_device: string;
  /** Sealed plaintext. */
  body: Uint8Array | null;
  error: string | null;
  sent_at: number;
  /** A translation (migration 0012): the message it renders, and its language; null on messages. */
  of_side: string | null;
  of_seq: number | null;
  lang: string | null;
}

export interface SeatHistoryTable {
  line_id: string;
  /** 'own': a member of this station; 'peer': a seat the peer station reported. */
  side: string;
  handle: string;
  first_seen_at: number;
}

export interface RecordEntriesTable {
  line_id: string;
  /** The entry's index in the log (its Merkle leaf index). */
  idx: number;
  /** The entry as JSON (its canonical form is recomputed for hashing, never read from here). */
  entry: string;
  leaf_hash: Uint8Array;
}

export interface RecordFoldsTable {
  line_id: string;
  /** Last sequence number of the hub's stream folded into the record. */
  folded_seq: number;
  /** First entry this station will not sign (a receipt or link it found false), or null. */
  hold_from: number | null;
}

export interface RecordHeadsTable {
  line_id: string;
  size: number;
  root_hash: string;
  /** ISO time of the head: the time of its last entry, so both stations sign the same bytes. */
  at: string;
  /** base64url Ed25519 signatures; the head counts once both are there. */
  sig_inviter: string | null;
  sig_acceptor: string | null;
}

export interface RecordAlarmsTable {
  line_id: string;
  /** Names what the alarm is about, so the same disagreement is stored once. */
  alarm_key: string;
  at: number;
  /** PEER_HEAD_INCONSISTENT, RECEIPT_MISMATCH, LINK_MISMATCH, LOCAL_RECORD_CHANGED or ENTRY_IN_FUTURE. */
  reason: string;
  detail: string;
  /** JSON: an Inconsistency of @parley/record, or the receipt and what this station holds. */
  evidence: string;
}

export interface ReadoutsTable {
  id: string;
  line_id: string;
  /** Handle of the press officer who drafted it. */
  author: string;
  title: string;
  text: string;
  /** BCP 47 tag of `text`; `text_alt` in `lang_alt` is the optional second language. */
  lang: string;
  text_alt: string | null;
  lang_alt: string | null;
  /** JSON array of joint-record entry indices. */
  cites: string;
  /** 'draft' | 'shared' | 'published'. */
  status: string;
  created_at: number;
  published_at: number | null;
  /** base64url SHA-256 of the published content (readoutContentBytes of @parley/protocol). */
  content_hash: string | null;
}

export interface Database {
  members: MembersTable;
  devices: DevicesTable;
  sessions: SessionsTable;
  lines: LinesTable;
  seats: SeatsTable;
  peer_seats: PeerSeatsTable;
  invitations: InvitationsTable;
  items: ItemsTable;
  fed_nonces: FedNoncesTable;
  leases: LeasesTable;
  mls_devices: MlsDevicesTable;
  key_packages: KeyPackagesTable;
  recorders: RecordersTable;
  archive: ArchiveTable;
  seat_history: SeatHistoryTable;
  record_entries: RecordEntriesTable;
  record_folds: RecordFoldsTable;
  record_heads: RecordHeadsTable;
  record_alarms: RecordAlarmsTable;
  readouts: ReadoutsTable;
}
