import { encodeBinding, signBinding, validateKeyPackage } from '@parley/e2ee';
import { ParleyError } from '@parley/protocol';
import type { DataDir } from '../config/data-dir.js';
import type { Db } from '../db/open.js';

/**
 * The station vouches for its own members' devices: it signs a binding of the device's MLS
 * signature key to (station, member handle, device id). The device id is the session's, so a
 * member can only get bindings for devices they logged in with.
 */
export async function vouchForDevice(
  db: Db,
  data: DataDir,
  input: { handle: string; deviceId: string; signatureKey: Uint8Array },
  now = Date.now(),
): Promise<Uint8Array> {
  if (input.signatureKey.length !== 32) throw new ParleyError('VALIDATION_FAILED', 'the signature key must be 32 bytes (Ed25519)');
  const existing = await db.selectFrom('mls_devices').selectAll().where('device_id', '=', input.deviceId).executeTakeFirst();
  if (existing) {
    // One MLS identity per device: a second, different key would let a station swap a device
    // under its owner's feet without a visible new device.
    if (Buffer.compare(Buffer.from(existing.signature_key), Buffer.from(input.signatureKey)) !== 0) {
      throw new ParleyError('FORBIDDEN', 'this device already has a different MLS key', 'log in again to register a new device');
    }
    return new Uint8Array(existing.binding);
  }
  const signed = await signBinding(
    { station: data.config.name, handle: input.handle, deviceId: input.deviceId, signatureKey: input.signatureKey, issuedAt: now },
    (bytes) => data.key.sign(bytes),
  );
  const binding = encodeBinding(signed);
  await db
    .insertInto('mls_devices')
    .values({ device_id: input.deviceId, member_handle: input.handle, signature_key: input.signatureKey, binding, created_at: now })
    .execute();
  return binding;
}

/** Store a device's key packages after checking each one is this very device's, vouched by us. */
export async function storeKeyPackages(
  db: Db,
  data: DataDir,
  input: { handle: string; deviceId: string; keyPackages: Uint8Array[] },
  now = Date.now(),
): Promise<number> {
  const policy = {
    stationKeys: new Map([[data.config.name, data.key.publicKey]]),
    seats: [{ station: data.config.name, handle: input.handle }],
  };
  const rows = [];
  for (const kp of input.keyPackages) {
    let valid: Awaited<ReturnType<typeof validateKeyPackage>>;
    try {
      valid = await validateKeyPackage(kp, policy, { now });
    } catch (e) {
      throw new ParleyError('VALIDATION_FAILED', `a key package was refused: ${(e as Error).message}`);
    }
    if (valid.device.deviceId !== input.deviceId || valid.device.handle !== input.handle) {
      throw new ParleyError('FORBIDDEN', 'a key package belongs to another device');
    }
    rows.push({
      ref: valid.ref,
      device_id: input.deviceId,
      member_handle: input.handle,
      key_package: kp,
      not_after: valid.notAfter,
      created_at: now,
      handed_out_at: null,
    });
  }
  if (rows.length > 0)
    await db
      .insertInto('key_packages')
      .values(rows)
      .onConflict((oc) => oc.column('ref').doNothing())
      .execute();
  return rows.length;
}

export async function unusedKeyPackages(db: Db, deviceId: string, now = Date.now()): Promise<number> {
  const r = await db
    .selectFrom('key_packages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('device_id', '=', deviceId)
    .where('handed_out_at', 'is', null)
    .where('not_after', '>', now)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/**
 * Key packages for our devices on a line that are not yet in its group: one per device of
 * every member seated on the line, each handed out once. Also returns every device we vouch
 * for on the line now, so the hub can remove the ones that are gone.
 */
export async function offerKeyPackages(
  db: Db,
  lineId: string,
  have: Set<string>,
  now = Date.now(),
): Promise<{ offers: { deviceId: string; handle: string; keyPackage: Uint8Array }[]; current: string[] }> {
  const devices = await db
    .selectFrom('mls_devices')
    .innerJoin('members', 'members.handle', 'mls_devices.member_handle')
    .innerJoin('seats', 'seats.member_id', 'members.id')
    .select(['mls_devices.device_id', 'mls_devices.member_handle'])
    .where('seats.line_id', '=', lineId)
    .execute();
  const offers: { deviceId: string; handle: string; keyPackage: Uint8Array }[] = [];
  for (const d of devices) {
    if (have.has(d.device_id)) continue;
    const kp = await db
      .selectFrom('key_packages')
      .selectAll()
      .where('device_id', '=', d.device_id)
      .where('handed_out_at', 'is', null)
      .where('not_after', '>', now + 60_000)
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
    if (!kp) continue;
    const claimed = await db
      .updateTable('key_packages')
      .set({ handed_out_at: now })
      .where('ref', '=', kp.ref)
      .where('handed_out_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 1)
      offers.push({ deviceId: d.device_id, handle: d.member_handle, keyPackage: new Uint8Array(kp.key_package) });
  }
  return { offers, current: devices.map((d) => d.device_id) };
}

/** Stop vouching for a device: it leaves every line's group at the hub's next look. */
export async function revokeDevice(db: Db, deviceId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('key_packages').where('device_id', '=', deviceId).execute();
    await trx.deleteFrom('mls_devices').where('device_id', '=', deviceId).execute();
  });
}
