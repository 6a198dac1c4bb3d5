import Type, { type Static } from 'typebox';
import { LineSummary, Member } from './client-api.js';
import { Base64url, DisplayName, Handle, LineName, RoleSchema, Timestamp } from './schema-parts.js';

// The station administrator's API (/api/v1/admin/*): what `parley member ...` does on the
// station's own machine, offered to a member whose role is 'admin' through the web app.

const closed = { additionalProperties: false } as const;

export const AdminMemberParams = Type.Object({ handle: Handle }, closed);

export const AdminMembersResponse = Type.Object({ members: Type.Array(Member) }, closed);
export type AdminMembersResponse = Static<typeof AdminMembersResponse>;

export const AdminAddMemberRequest = Type.Object({ handle: Handle, name: DisplayName, role: RoleSchema }, closed);
export type AdminAddMemberRequest = Static<typeof AdminAddMemberRequest>;

/** The enrollment secret is shown once: the station keeps only its hash. */
export const AdminAddMemberResponse = Type.Object({ member: Member, enrollmentSecret: Base64url }, closed);
export type AdminAddMemberResponse = Static<typeof AdminAddMemberResponse>;

export const AdminResetResponse = Type.Object({ enrollmentSecret: Base64url }, closed);
export type AdminResetResponse = Static<typeof AdminResetResponse>;

export const AdminLinesResponse = Type.Object({ lines: Type.Array(LineSummary) }, closed);
export type AdminLinesResponse = Static<typeof AdminLinesResponse>;

/** Seats on our side of a new line: our members' handles, each once. */
const SeatHandles = Type.Array(Handle, { minItems: 1, maxItems: 100, uniqueItems: true });

/** Invite another station to a line (what `parley line invite` does). */
export const AdminInviteRequest = Type.Object(
  {
    line: LineName,
    seats: SeatHandles,
    /** How long the invitation can be used, in hours (default 24, at most 30 days). */
    ttlHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 720 })),
  },
  closed,
);
export type AdminInviteRequest = Static<typeof AdminInviteRequest>;

/** The invitation text to hand to the other station's operator, shown once (its secret is kept hashed). */
export const AdminInviteResponse = Type.Object(
  {
    invitation: Type.String(),
    lineName: LineName,
    expiresAt: Timestamp,
    /** This station, as the other operator will see it pinned: compare the fingerprint. */
    station: Type.Object({ name: Type.String(), fingerprint: Type.String() }, closed),
  },
  closed,
);
export type AdminInviteResponse = Static<typeof AdminInviteResponse>;

/** Accept another station's invitation (what `parley line accept` does). */
export const AdminAcceptRequest = Type.Object(
  {
    invitation: Type.String({ minLength: 1, maxLength: 16_384 }),
    seats: SeatHandles,
    /** Our local name for the line (default: the inviter's). */
    name: Type.Optional(LineName),
  },
  closed,
);
export type AdminAcceptRequest = Static<typeof AdminAcceptRequest>;

/** The line is linked: read the safety number to the other operator over a channel you trust. */
export const AdminAcceptResponse = Type.Object(
  {
    lineName: LineName,
    safetyNumber: Type.String(),
    peer: Type.Object({ name: Type.String(), fingerprint: Type.String() }, closed),
  },
  closed,
);
export type AdminAcceptResponse = Static<typeof AdminAcceptResponse>;
