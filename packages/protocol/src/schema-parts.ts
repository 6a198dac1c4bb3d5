import Type from 'typebox';

// Reusable pieces. Every object schema is closed (additionalProperties: false): an unknown
// field is a mistake by the sender, and silently ignoring it hides bugs on both sides.
export const Handle = Type.String({ pattern: '^[a-z][a-z0-9_.-]{1,31}$', description: 'lowercase login name' });
export const DisplayName = Type.String({ minLength: 1, maxLength: 100 });
export const LineName = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' });
export const Base64url = Type.String({ pattern: '^[A-Za-z0-9_-]*$' });
export const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' });
export const RoleSchema = Type.Union([
  Type.Literal('principal'),
  Type.Literal('deputy'),
  Type.Literal('duty_officer'),
  Type.Literal('interpreter'),
  Type.Literal('press_officer'),
  Type.Literal('admin'),
]);
export const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
export const Timestamp = Type.Integer({ minimum: 0, description: 'milliseconds since the Unix epoch' });
export const HttpUrl = Type.String({ pattern: '^https?://[^\\s/]+(/[^\\s]*)?$', maxLength: 300 });
/** Opaque item payload (ciphertext once end-to-end encryption lands). 64 KiB of bytes at most. */
export const Payload = Type.String({ pattern: '^[A-Za-z0-9_-]*$', maxLength: 87382 });
/**
 * What an item carries. 'call' and 'record' are the hub's line events (see line-events.ts). 'mls': an MLS message (a commit as PublicMessage, or an application
 * message as PrivateMessage); 'welcome': an MLS Welcome for devices joining the line's group.
 * 'message' (plaintext, from before end-to-end encryption) is no longer accepted from anyone;
 * it stays in this read-side type only so clients can name such an item if an old data
 * directory still holds one.
 */
export const ItemKind = Type.Union([
  Type.Literal('mls'),
  Type.Literal('welcome'),
  Type.Literal('call'),
  Type.Literal('record'),
  Type.Literal('translation'),
  Type.Literal('message'),
]);
export type ItemKind = 'mls' | 'welcome' | 'call' | 'record' | 'translation' | 'message';
/** What a member may send: MLS application messages only (the station checks the framing). */
export const SendKind = Type.Literal('mls');
/**
 * What travels between stations: MLS messages; from the hub only, Welcomes, call events it
 * ordered ('call') and joint-record entries it made ('record'), see line-events.ts.
 */
export const FedItemKind = Type.Union([
  Type.Literal('mls'),
  Type.Literal('welcome'),
  Type.Literal('call'),
  Type.Literal('record'),
  Type.Literal('translation'),
]);

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({ code: Type.String(), message: Type.String(), hint: Type.Optional(Type.String()) }),
  },
  { additionalProperties: false },
);
