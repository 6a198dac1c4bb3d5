// The station endpoints an end-to-end encrypted device uses, behind an interface so that the
// device logic can be exercised against an in-memory station in unit tests.
import type { Item, ItemsPage, LineSummary, SendResponse, TranslationRequest } from '@parley/protocol';
import { apiCall } from '../api-client.js';

/** A line as the device needs it: the summary plus both stations' identity keys. */
export type E2eeLine = LineSummary & {
  station: { name: string; publicKey: string };
  peer: LineSummary['peer'] & { publicKey: string };
};

export interface BindingAnswer {
  binding: string;
  deviceId: string;
  station: { name: string; publicKey: string };
}

export interface StationRoster {
  epoch: number;
  devices: { leafIndex: number; station: string; handle: string; deviceId: string; signatureKeyFingerprint: string; issuedAt: number }[];
}

export interface ArchiveEntry {
  pos: number;
  sentAt: number;
  sender: { station: string; handle: string; deviceId: string };
  text: string | null;
  error: string | null;
  /** A translation the recorder archived: the message it renders (side and seq) and its language. */
  translation?: { of: { side: string; seq: number }; lang: string };
}

export interface StationApi {
  binding(signatureKey: string): Promise<BindingAnswer>;
  uploadKeyPackages(keyPackages: string[]): Promise<{ stored: number }>;
  unusedKeyPackages(): Promise<{ unused: number }>;
  line(line: string): Promise<E2eeLine>;
  items(line: string, after: number, limit: number): Promise<ItemsPage>;
  send(line: string, body: { kind: 'mls'; payload: string; clientId: string }): Promise<SendResponse>;
  commit(line: string, commit: string): Promise<{ epoch: number }>;
  roster(line: string): Promise<StationRoster>;
  history(line: string, after: number, limit: number): Promise<{ entries: ArchiveEntry[] }>;
  translate(line: string, body: TranslationRequest): Promise<SendResponse>;
}

export type { Item };

export function httpStationApi(station: string, token: string): StationApi {
  const L = (line: string) => `api/v1/lines/${encodeURIComponent(line)}`;
  return {
    binding: (signatureKey) => apiCall(station, 'POST', 'api/v1/devices/binding', { token, body: { signatureKey } }),
    uploadKeyPackages: (keyPackages) => apiCall(station, 'POST', 'api/v1/devices/key-packages', { token, body: { keyPackages } }),
    unusedKeyPackages: () => apiCall(station, 'GET', 'api/v1/devices/key-packages', { token }),
    line: (line) => apiCall(station, 'GET', L(line), { token }),
    items: (line, after, limit) => apiCall(station, 'GET', `${L(line)}/items?after=${after}&limit=${limit}`, { token }),
    send: (line, body) => apiCall(station, 'POST', `${L(line)}/items`, { token, body }),
    commit: (line, commit) => apiCall(station, 'POST', `${L(line)}/commits`, { token, body: { commit } }),
    roster: (line) => apiCall(station, 'GET', `${L(line)}/roster`, { token }),
    history: (line, after, limit) => apiCall(station, 'GET', `${L(line)}/history?after=${after}&limit=${limit}`, { token }),
    translate: (line, body) => apiCall(station, 'POST', `${L(line)}/translations`, { token, body }),
  };
}
