import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParleyError } from '@parley/protocol';

/**
 * Seals what the recorder keeps (its device keys, group state, the archive) with AES-256-GCM
 * under a key that is not in the database: a stolen database, backup or WAL file shows
 * ciphertext only. The key file defaults to DATA/archive.key (0600); point
 * PARLEY_ARCHIVE_KEY_FILE at another volume or a secrets mount to keep it apart from the data.
 */
export class ArchiveKey {
  private constructor(private readonly key: Buffer) {}

  static load(dataDir: string): ArchiveKey {
    const file = process.env.PARLEY_ARCHIVE_KEY_FILE || join(dataDir, 'archive.key');
    if (!existsSync(file)) {
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
    }
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new ParleyError('DATA_DIR_CORRUPT', `the archive key ${file} is damaged`, 'restore it from a backup');
    return new ArchiveKey(key);
  }

  seal(plain: Uint8Array, context: string): Uint8Array {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(context));
    const body = Buffer.concat([c.update(plain), c.final()]);
    return new Uint8Array(Buffer.concat([iv, c.getAuthTag(), body]));
  }

  open(sealed: Uint8Array, context: string): Uint8Array {
    const buf = Buffer.from(sealed);
    const d = createDecipheriv('aes-256-gcm', this.key, buf.subarray(0, 12));
    d.setAAD(Buffer.from(context));
    d.setAuthTag(buf.subarray(12, 28));
    return new Uint8Array(Buffer.concat([d.update(buf.subarray(28)), d.final()]));
  }

  toJSON(): object {
    return { archiveKey: '[redacted]' };
  }
}
