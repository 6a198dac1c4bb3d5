// Reading MLS messages without any group state: the station (the hub that orders a line's
// handshake messages, the relay that stores ciphertext) needs to know what a message is, for
// which group and epoch, and nothing more.
import { decodeMlsMessage, type MLSMessage } from 'ts-mls';
import { E2eeError } from './errors.js';

export function decodeMls(bytes: Uint8Array): MLSMessage {
  if (!(bytes instanceof Uint8Array)) throw new E2eeError('INVALID_ARGUMENT', 'message must be a Uint8Array');
  let decoded: ReturnType<typeof decodeMlsMessage>;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch {
    decoded = undefined;
  }
  if (!decoded || decoded[1] !== bytes.length) throw new E2eeError('MALFORMED', 'not an MLS message');
  if (decoded[0].version !== 'mls10') throw new E2eeError('MALFORMED', `unsupported MLS version ${decoded[0].version}`);
  return decoded[0];
}

export function epochNumber(epoch: bigint): number {
  if (epoch < 0n || epoch > BigInt(Number.MAX_SAFE_INTEGER)) throw new E2eeError('MALFORMED', 'epoch out of range');
  return Number(epoch);
}

export type MessageInfo =
  | {
      readonly kind: 'handshake';
      readonly contentType: 'commit' | 'proposal';
      /** Parley sends commits as PublicMessage so both stations can see roster changes. */
      readonly public: boolean;
      readonly groupId: Uint8Array;
      readonly epoch: number;
      /** The committer's leaf (public handshake messages from members only). */
      readonly senderLeafIndex: number | undefined;
    }
  | { readonly kind: 'application'; readonly groupId: Uint8Array; readonly epoch: number }
  | { readonly kind: 'welcome'; readonly ciphersuite: string }
  | { readonly kind: 'key_package'; readonly ciphersuite: string }
  | { readonly kind: 'group_info'; readonly groupId: Uint8Array; readonly epoch: number };

/** What a message is, for which group and epoch. Verifies nothing: for routing and ordering only. */
export function peekMessage(bytes: Uint8Array): MessageInfo {
  const msg = decodeMls(bytes);
  switch (msg.wireformat) {
    case 'mls_public_message': {
      const c = msg.publicMessage.content;
      if (c.contentType === 'application') throw new E2eeError('MALFORMED', 'application data in a PublicMessage');
      return {
        kind: 'handshake',
        contentType: c.contentType,
        public: true,
        groupId: c.groupId,
        epoch: epochNumber(c.epoch),
        senderLeafIndex: c.sender.senderType === 'member' ? c.sender.leafIndex : undefined,
      };
    }
    case 'mls_private_message': {
      const pm = msg.privateMessage;
      if (pm.contentType === 'application') return { kind: 'application', groupId: pm.groupId, epoch: epochNumber(pm.epoch) };
      return {
        kind: 'handshake',
        contentType: pm.contentType,
        public: false,
        groupId: pm.groupId,
        epoch: epochNumber(pm.epoch),
        senderLeafIndex: undefined,
      };
    }
    case 'mls_welcome':
      return { kind: 'welcome', ciphersuite: msg.welcome.cipherSuite };
    case 'mls_key_package':
      return { kind: 'key_package', ciphersuite: msg.keyPackage.cipherSuite };
    case 'mls_group_info':
      return { kind: 'group_info', groupId: msg.groupInfo.groupContext.groupId, epoch: epochNumber(msg.groupInfo.groupContext.epoch) };
    default: {
      const unhandled: never = msg;
      throw new E2eeError('MALFORMED', `unknown wire format ${(unhandled as MLSMessage).wireformat}`);
    }
  }
}
