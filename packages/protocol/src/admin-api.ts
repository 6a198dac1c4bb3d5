import Type, { type Static } from 'typebox';
import { LineSummary, Member } from './client-api.js';
import { Base64url, DisplayName, Handle, RoleSchema } from './schema-parts.js';

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
