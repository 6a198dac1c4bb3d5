import type { Vault } from './e2ee/vault.js';
import type { KeyValueStore } from './storage.js';

/**
 * What the officer is typing on each line, kept so that it survives a reload or a crashed tab:
 * sealed in the vault like everything else they write, never in plain localStorage. Writes of one
 * line go one after another, so an older text can never overwrite a newer one.
 */
export class Drafts {
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly vault: Vault,
    /** Where earlier versions of the app kept drafts in plain text (read once, then removed). */
    private readonly legacy: { store: KeyValueStore; key: (line: string) => string } | null = null,
  ) {}

  async get(line: string): Promise<string> {
    const legacyKey = this.legacy?.key(line);
    const old = legacyKey ? this.legacy?.store.getItem(legacyKey) : null;
    if (old && legacyKey) {
      await this.set(line, old);
      this.legacy?.store.removeItem(legacyKey);
      return old;
    }
    await this.chains.get(line);
    return (await this.vault.get<string>(`draft/${line}`).catch(() => undefined)) ?? '';
  }

  /** Resolves once the text is stored (or rejects if the browser refused it). */
  set(line: string, text: string): Promise<void> {
    const prev = this.chains.get(line) ?? Promise.resolve();
    const next = prev
      .catch(() => undefined)
      .then(() => (text ? this.vault.write([[`draft/${line}`, text]]) : this.vault.write([], [`draft/${line}`])));
    this.chains.set(line, next);
    return next;
  }
}
