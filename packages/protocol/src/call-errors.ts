// Stable error codes of calls on a line (the pure core is @parley/calls), with the HTTP status a
// station answers them with. Here, beside every other wire code, so one ParleyError carries them.
export const CALL_ERROR_STATUS = {
  /** The value is not a call event, test event or body of the expected shape. */
  CALL_MALFORMED: 400,
  /** The actor holds no seat on the line. */
  NOT_SEATED: 403,
  /** `by` in the event is not the actor who sends it. */
  CALL_ACTOR_MISMATCH: 403,
  /** A scheduler event (expire, unanswered, escalate, test verdicts) not sent by the right station. */
  CALL_NOT_STATION: 403,
  /** The event's time is in the future beyond the allowed skew, or before the call's last event. */
  CALL_BAD_TIME: 400,
  CALL_NOT_FOUND: 404,
  /** A request with a call id that is already taken. */
  CALL_EXISTS: 409,
  /** The event names a talk other than the call's. */
  CALL_TALK_MISMATCH: 409,
  /** The action does not follow from the call's state (ring before accept, a second acknowledgement…). */
  CALL_INVALID_TRANSITION: 409,
  /** Accepted, declined or cancelled already. */
  CALL_ALREADY_DECIDED: 409,
  /** The request expired (or its expiry time has passed and the scheduler has not said so yet). */
  CALL_EXPIRED: 410,
  /** Only the side that did not request may acknowledge, accept or decline. */
  CALL_NOT_FAR_SIDE: 403,
  /** On the far side, but neither the counterpart wanted nor a duty officer or deputy. */
  CALL_NOT_ANSWERER: 403,
  /** Only the requester (or a duty officer of the requesting side) may cancel. */
  CALL_NOT_REQUESTER: 403,
  /** Ringing, connecting, ending, leaving or signalling by someone not in the call. */
  CALL_NOT_PARTICIPANT: 403,
  CALL_ALREADY_PARTICIPANT: 409,
  /** Six participants already. */
  CALL_FULL: 409,
  /** A scheduler event before its deadline: the receiving station checks the hub's clock work. */
  CALL_NOT_DUE: 409,
  /** A line policy that contradicts itself (an acknowledgement deadline after the expiry…). */
  CALL_POLICY_INVALID: 400,
  /** A line's deadlines are set by a principal or an administrator of either side, nobody else. */
  CALL_POLICY_FORBIDDEN: 403,
  /** An SDP that is not a WebRTC audio description with a SHA-256 DTLS fingerprint. */
  MALFORMED_SDP: 400,
  /** The station's ICE servers setting (station.json `ice`, PARLEY_ICE_SERVERS) or an answer of GET /api/v1/ice is not valid. */
  ICE_CONFIG_INVALID: 400,
  TEST_NOT_FOUND: 404,
  TEST_EXISTS: 409,
  TEST_ALREADY_ACKNOWLEDGED: 409,
  /** A test is acknowledged by the side that did not send it. */
  TEST_NOT_FAR_SIDE: 403,
  TEST_NOT_DUTY_OFFICER: 403,
  TEST_NOT_DUE: 409,
  TEST_INVALID_TRANSITION: 409,
} as const;
