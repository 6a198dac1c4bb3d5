// The MLS working group's interoperability test vectors (github.com/mlswg/mls-implementations,
// as vendored by ts-mls), run through ts-mls with *Parley's* crypto provider. ts-mls's npm
// package ships no vectors, so test/vectors/ holds the subset we use (see its README).
//
// No official vectors exist for X-Wing suites yet. Parley's suite shares every other component
// with two RFC 9420 suites, so those cover it: suite 3 (X25519, ChaCha20-Poly1305, SHA-256,
// Ed25519) covers the AEAD and the signatures; suite 5 (P-521, AES-256-GCM, SHA-512, P-521)
// covers HKDF-SHA512 and SHA-512. Suite 3 is also Parley's fallback suite, so the full
// passive-client scenarios (join from a Welcome, then process real commits) run for it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hexToBytes } from '@noble/hashes/utils.js';
import {
  bytesToBase64,
  type CiphersuiteImpl,
  type ClientState,
  decodeMlsMessage,
  defaultKeyRetentionConfig,
  defaultPaddingConfig,
  type GroupContext,
  joinGroup,
  makePskIndex,
  processPrivateMessage,
  processPublicMessage,
  type RatchetTree,
} from 'ts-mls';
import { decodeAuthenticatedContent } from 'ts-mls/authenticatedContent.js';
import { defaultClientConfig } from 'ts-mls/clientConfig.js';
import { encodeCommit } from 'ts-mls/commit.js';
import { type CiphersuiteId, getCiphersuiteFromId, getCiphersuiteNameFromId } from 'ts-mls/crypto/ciphersuite.js';
import { getCiphersuiteImpl } from 'ts-mls/crypto/getCiphersuiteImpl.js';
import { refhash } from 'ts-mls/crypto/hash.js';
import { decryptWithLabel, encryptWithLabel } from 'ts-mls/crypto/hpke.js';
import { deriveSecret, deriveTreeSecret, expandWithLabel } from 'ts-mls/crypto/kdf.js';
import { signWithLabel, verifyWithLabel } from 'ts-mls/crypto/signature.js';
import { encodeGroupContext } from 'ts-mls/groupContext.js';
import { verifyGroupInfoConfirmationTag, verifyGroupInfoSignature } from 'ts-mls/groupInfo.js';
import { makeKeyPackageRef } from 'ts-mls/keyPackage.js';
import { initializeEpoch, mlsExporter } from 'ts-mls/keySchedule.js';
import { protectApplicationData, unprotectPrivateMessage } from 'ts-mls/messageProtection.js';
import { unprotectPublicMessage } from 'ts-mls/messageProtectionPublic.js';
import { encodeProposal } from 'ts-mls/proposal.js';
import { decodeRatchetTree } from 'ts-mls/ratchetTree.js';
import { createSecretTree, deriveKey, deriveNonce, ratchetUntil } from 'ts-mls/secretTree.js';
import { expandSenderDataKey, expandSenderDataNonce } from 'ts-mls/sender.js';
import { createConfirmedHash, createInterimHash } from 'ts-mls/transcriptHash.js';
import { leafToNodeIndex, toLeafIndex } from 'ts-mls/treemath.js';
import { decryptGroupInfo, decryptGroupSecrets } from 'ts-mls/welcome.js';
import { nobleEd25519, parleyCryptoProvider, webCryptoEd25519 } from '../src/crypto-provider.js';

// biome-ignore lint/suspicious/noExplicitAny: vector files are untyped JSON, read field by field.
type Vector = any;

function vectors(name: string): Vector[] {
  const list = JSON.parse(readFileSync(new URL(`../../test/vectors/${name}.json`, import.meta.url), 'utf8')) as Vector[];
  assert.ok(list.length > 0, `no vectors in ${name}`);
  return list;
}

const impl = (suite: number): Promise<CiphersuiteImpl> =>
  getCiphersuiteImpl(getCiphersuiteFromId(suite as CiphersuiteId), parleyCryptoProvider);
const hex = (s: string) => hexToBytes(s);

function groupContext(v: Vector, epoch: bigint = BigInt(v.epoch)): GroupContext {
  return {
    version: 'mls10',
    cipherSuite: getCiphersuiteNameFromId(v.cipher_suite as CiphersuiteId),
    groupId: hex(v.group_id),
    epoch,
    treeHash: hex(v.tree_hash),
    confirmedTranscriptHash: hex(v.confirmed_transcript_hash),
    extensions: [],
  };
}

test('crypto-basics: RefHash, ExpandWithLabel, DeriveSecret, DeriveTreeSecret, SignWithLabel, EncryptWithLabel', async (t) => {
  for (const v of vectors('crypto-basics')) {
    await t.test(`suite ${v.cipher_suite}`, async () => {
      const cs = await impl(v.cipher_suite);
      assert.deepEqual(await refhash(v.ref_hash.label, hex(v.ref_hash.value), cs.hash), hex(v.ref_hash.out));
      const e = v.expand_with_label;
      assert.deepEqual(await expandWithLabel(hex(e.secret), e.label, hex(e.context), e.length, cs.kdf), hex(e.out));
      assert.deepEqual(await deriveSecret(hex(v.derive_secret.secret), v.derive_secret.label, cs.kdf), hex(v.derive_secret.out));
      const d = v.derive_tree_secret;
      assert.deepEqual(await deriveTreeSecret(hex(d.secret), d.label, d.generation, d.length, cs.kdf), hex(d.out));
      const s = v.sign_with_label;
      assert.equal(await verifyWithLabel(hex(s.pub), s.label, hex(s.content), hex(s.signature), cs.signature), true);
      const ours = await signWithLabel(hex(s.priv), s.label, hex(s.content), cs.signature);
      assert.equal(await verifyWithLabel(hex(s.pub), s.label, hex(s.content), ours, cs.signature), true);
      const wrong = hex(s.content);
      wrong[0] = (wrong[0] as number) ^ 1;
      assert.equal(await verifyWithLabel(hex(s.pub), s.label, wrong, hex(s.signature), cs.signature), false);
      const x = v.encrypt_with_label;
      const priv = await cs.hpke.importPrivateKey(hex(x.priv));
      const opened = await decryptWithLabel(priv, x.label, hex(x.context), hex(x.kem_output), hex(x.ciphertext), cs.hpke);
      assert.deepEqual(new Uint8Array(opened), hex(x.plaintext));
      const sealed = await encryptWithLabel(await cs.hpke.importPublicKey(hex(x.pub)), x.label, hex(x.context), hex(x.plaintext), cs.hpke);
      assert.deepEqual(
        new Uint8Array(await decryptWithLabel(priv, x.label, hex(x.context), sealed.enc, sealed.ct, cs.hpke)),
        hex(x.plaintext),
      );
    });
  }
});

test('both Ed25519 implementations (WebCrypto, and the @noble/curves fallback) agree with the vectors', async () => {
  for (const v of vectors('crypto-basics').filter((x) => x.cipher_suite === 3)) {
    const s = v.sign_with_label;
    const subtle = globalThis.crypto.subtle;
    for (const [name, sig] of [
      ['webcrypto', webCryptoEd25519(subtle)],
      ['noble', nobleEd25519()],
    ] as const) {
      assert.equal(await verifyWithLabel(hex(s.pub), s.label, hex(s.content), hex(s.signature), sig), true, name);
      const ours = await signWithLabel(hex(s.priv), s.label, hex(s.content), sig);
      assert.deepEqual(ours, hex(s.signature), `${name}: Ed25519 is deterministic`);
      const bad = ours.slice();
      bad[10] = (bad[10] as number) ^ 1;
      assert.equal(await verifyWithLabel(hex(s.pub), s.label, hex(s.content), bad, sig), false, name);
      // Cached keys: the same buffers again, then changed contents under the same buffer.
      const pub = hex(s.pub);
      assert.equal(await sig.verify(pub, hex(s.content), hex(s.signature)), await sig.verify(pub, hex(s.content), hex(s.signature)));
      pub[0] = (pub[0] as number) ^ 1;
      assert.equal(await sig.verify(pub, hex(s.content), hex(s.signature)), false, `${name}: stale cache entry used`);
    }
  }
});

test('key-schedule: epoch secrets, exporter and external key across epochs', async (t) => {
  for (const v of vectors('key-schedule')) {
    await t.test(`suite ${v.cipher_suite}, ${v.epochs.length} epochs`, async () => {
      const cs = await impl(v.cipher_suite);
      let initSecret = hex(v.initial_init_secret);
      for (const [i, ep] of (v.epochs as Vector[]).entries()) {
        const gc: GroupContext = {
          version: 'mls10',
          cipherSuite: getCiphersuiteNameFromId(v.cipher_suite as CiphersuiteId),
          groupId: hex(v.group_id),
          epoch: BigInt(i),
          treeHash: hex(ep.tree_hash),
          confirmedTranscriptHash: hex(ep.confirmed_transcript_hash),
          extensions: [],
        };
        assert.deepEqual(encodeGroupContext(gc), hex(ep.group_context));
        const r = await initializeEpoch(initSecret, hex(ep.commit_secret), gc, hex(ep.psk_secret), cs.kdf);
        assert.deepEqual(r.joinerSecret, hex(ep.joiner_secret));
        assert.deepEqual(r.welcomeSecret, hex(ep.welcome_secret));
        assert.deepEqual(r.encryptionSecret, hex(ep.encryption_secret));
        const k = r.keySchedule;
        assert.deepEqual(k.initSecret, hex(ep.init_secret));
        assert.deepEqual(k.senderDataSecret, hex(ep.sender_data_secret));
        assert.deepEqual(k.exporterSecret, hex(ep.exporter_secret));
        assert.deepEqual(k.externalSecret, hex(ep.external_secret));
        assert.deepEqual(k.confirmationKey, hex(ep.confirmation_key));
        assert.deepEqual(k.membershipKey, hex(ep.membership_key));
        assert.deepEqual(k.resumptionPsk, hex(ep.resumption_psk));
        assert.deepEqual(k.epochAuthenticator, hex(ep.epoch_authenticator));
        const { publicKey } = await cs.hpke.deriveKeyPair(hex(ep.external_secret));
        assert.deepEqual(await cs.hpke.exportPublicKey(publicKey), hex(ep.external_pub));
        const x = ep.exporter;
        assert.deepEqual(await mlsExporter(k.exporterSecret, x.label, hex(x.context), x.length, cs), hex(x.secret));
        initSecret = k.initSecret;
      }
    });
  }
});

test('secret-tree: sender data keys and per-leaf handshake/application ratchets', async (t) => {
  for (const v of vectors('secret-tree')) {
    await t.test(`suite ${v.cipher_suite}, ${v.leaves.length} leaves`, async () => {
      const cs = await impl(v.cipher_suite);
      const sd = v.sender_data;
      assert.deepEqual(await expandSenderDataKey(cs, hex(sd.sender_data_secret), hex(sd.ciphertext)), hex(sd.key));
      assert.deepEqual(await expandSenderDataNonce(cs, hex(sd.sender_data_secret), hex(sd.ciphertext)), hex(sd.nonce));
      const tree = await createSecretTree(v.leaves.length, hex(v.encryption_secret), cs.kdf);
      for (const [i, gens] of (v.leaves as Vector[][]).entries()) {
        const node = tree[leafToNodeIndex(toLeafIndex(i))]!;
        for (const g of gens) {
          const config = { ...defaultKeyRetentionConfig, maximumForwardRatchetSteps: 1 << 20 };
          const [hs] = await ratchetUntil(node.handshake, g.generation, config, cs.kdf);
          assert.deepEqual(await deriveKey(hs.secret, hs.generation, cs), hex(g.handshake_key));
          assert.deepEqual(await deriveNonce(hs.secret, hs.generation, cs), hex(g.handshake_nonce));
          const [app] = await ratchetUntil(node.application, g.generation, config, cs.kdf);
          assert.deepEqual(await deriveKey(app.secret, app.generation, cs), hex(g.application_key));
          assert.deepEqual(await deriveNonce(app.secret, app.generation, cs), hex(g.application_nonce));
        }
      }
    });
  }
});

// A tree whose leaf 1 is non-blank: message-protection vectors are sent by leaf 1.
const senderAtLeaf1 = (): RatchetTree => [
  undefined,
  undefined,
  {
    nodeType: 'leaf',
    leaf: {
      leafNodeSource: 'commit',
      hpkePublicKey: new Uint8Array(),
      signaturePublicKey: new Uint8Array(),
      capabilities: { versions: ['mls10'], ciphersuites: [], extensions: [], proposals: [], credentials: ['basic'] },
      parentHash: new Uint8Array(),
      extensions: [],
      signature: new Uint8Array(),
      credential: { credentialType: 'basic', identity: new Uint8Array() },
    },
  },
];

test('message-protection: decrypt and verify PrivateMessage and PublicMessage framing', async (t) => {
  for (const v of vectors('message-protection')) {
    await t.test(`suite ${v.cipher_suite}`, async () => {
      const cs = await impl(v.cipher_suite);
      const gc = groupContext(v);
      const open = async (wire: string) => {
        const msg = decodeMlsMessage(hex(wire), 0)![0];
        assert.equal(msg.wireformat, 'mls_private_message');
        if (msg.wireformat !== 'mls_private_message') throw new Error('unreachable');
        const tree = await createSecretTree(2, hex(v.encryption_secret), cs.kdf);
        const out = await unprotectPrivateMessage(
          hex(v.sender_data_secret),
          msg.privateMessage,
          tree,
          senderAtLeaf1(),
          gc,
          defaultKeyRetentionConfig,
          cs,
          hex(v.signature_pub),
        );
        return out.content.content;
      };
      const app = await open(v.application_priv);
      assert.ok(app.contentType === 'application');
      assert.deepEqual(app.applicationData, hex(v.application));
      const prop = await open(v.proposal_priv);
      assert.ok(prop.contentType === 'proposal');
      assert.deepEqual(encodeProposal(prop.proposal), hex(v.proposal));
      const commit = await open(v.commit_priv);
      assert.ok(commit.contentType === 'commit');
      assert.deepEqual(encodeCommit(commit.commit), hex(v.commit));
      for (const [wire, expected] of [
        [v.proposal_pub, v.proposal],
        [v.commit_pub, v.commit],
      ] as const) {
        const msg = decodeMlsMessage(hex(wire), 0)![0];
        if (msg.wireformat !== 'mls_public_message') assert.fail('expected a public message');
        const out = await unprotectPublicMessage(hex(v.membership_key), gc, [], msg.publicMessage, cs, hex(v.signature_pub));
        const c = out.content;
        const encoded =
          c.contentType === 'proposal' ? encodeProposal(c.proposal) : c.contentType === 'commit' ? encodeCommit(c.commit) : undefined;
        assert.deepEqual(encoded, hex(expected));
      }
      // And our own protection of the same application data opens with the vector's keys.
      const tree = await createSecretTree(2, hex(v.encryption_secret), cs.kdf);
      const ours = await protectApplicationData(
        hex(v.signature_priv),
        hex(v.sender_data_secret),
        hex(v.application),
        new Uint8Array(),
        gc,
        tree,
        1,
        defaultPaddingConfig,
        cs,
      );
      const back = await unprotectPrivateMessage(
        hex(v.sender_data_secret),
        ours.privateMessage,
        tree,
        senderAtLeaf1(),
        gc,
        defaultKeyRetentionConfig,
        cs,
        hex(v.signature_pub),
      );
      assert.ok(back.content.content.contentType === 'application');
      assert.deepEqual(back.content.content.applicationData, hex(v.application));
    });
  }
});

test('welcome: decrypt group secrets and GroupInfo, verify confirmation tag and signature', async (t) => {
  for (const v of vectors('welcome')) {
    await t.test(`suite ${v.cipher_suite}`, async () => {
      const cs = await impl(v.cipher_suite);
      const w = decodeMlsMessage(hex(v.welcome), 0)![0];
      const kp = decodeMlsMessage(hex(v.key_package), 0)![0];
      if (w.wireformat !== 'mls_welcome' || kp.wireformat !== 'mls_key_package') assert.fail('bad vector');
      const ref = await makeKeyPackageRef(kp.keyPackage, cs.hash);
      const secrets = await decryptGroupSecrets(await cs.hpke.importPrivateKey(hex(v.init_priv)), ref, w.welcome, cs.hpke);
      assert.ok(secrets);
      const psk = new Uint8Array(cs.kdf.size);
      const gi = await decryptGroupInfo(w.welcome, secrets.joinerSecret, psk, cs);
      assert.ok(gi);
      assert.equal(await verifyGroupInfoConfirmationTag(gi, secrets.joinerSecret, psk, cs), true);
      assert.equal(await verifyGroupInfoSignature(gi, hex(v.signer_pub), cs.signature), true);
    });
  }
});

test('transcript-hashes: confirmed and interim transcript hashes, confirmation tag', async (t) => {
  for (const v of vectors('transcript-hashes')) {
    await t.test(`suite ${v.cipher_suite}`, async () => {
      const cs = await impl(v.cipher_suite);
      const ac = decodeAuthenticatedContent(hex(v.authenticated_content), 0)![0];
      if (ac.content.contentType !== 'commit' || ac.auth.contentType !== 'commit') assert.fail('bad vector');
      assert.equal(await cs.hash.verifyMac(hex(v.confirmation_key), ac.auth.confirmationTag, hex(v.confirmed_transcript_hash_after)), true);
      const confirmed = await createConfirmedHash(
        hex(v.interim_transcript_hash_before),
        { wireformat: ac.wireformat, content: ac.content, signature: ac.auth.signature },
        cs.hash,
      );
      assert.deepEqual(confirmed, hex(v.confirmed_transcript_hash_after));
      assert.deepEqual(await createInterimHash(confirmed, ac.auth.confirmationTag, cs.hash), hex(v.interim_transcript_hash_after));
    });
  }
});

/** A passive client joins from a Welcome, then processes every proposal and commit in order. */
async function passiveClient(v: Vector): Promise<number> {
  const cs = await impl(v.cipher_suite);
  const kp = decodeMlsMessage(hex(v.key_package), 0)![0];
  const welcome = decodeMlsMessage(hex(v.welcome), 0)![0];
  if (kp.wireformat !== 'mls_key_package' || welcome.wireformat !== 'mls_welcome') assert.fail('bad vector');
  const psks: Record<string, Uint8Array> = {};
  for (const p of v.external_psks as Vector[]) psks[bytesToBase64(hex(p.psk_id))] = hex(p.psk);
  const tree = v.ratchet_tree ? decodeRatchetTree(hex(v.ratchet_tree), 0)?.[0] : undefined;
  let state: ClientState = await joinGroup(
    welcome.welcome,
    kp.keyPackage,
    { initPrivateKey: hex(v.init_priv), hpkePrivateKey: hex(v.encryption_priv), signaturePrivateKey: hex(v.signature_priv) },
    makePskIndex(undefined, psks),
    cs,
    tree,
    undefined,
    defaultClientConfig,
  );
  assert.deepEqual(state.keySchedule.epochAuthenticator, hex(v.initial_epoch_authenticator));
  for (const ep of v.epochs as Vector[]) {
    for (const wire of [...(ep.proposals as string[]), ep.commit as string]) {
      const m = decodeMlsMessage(hex(wire), 0)![0];
      if (m.wireformat === 'mls_private_message')
        state = (await processPrivateMessage(state, m.privateMessage, makePskIndex(state, psks), cs)).newState;
      else if (m.wireformat === 'mls_public_message')
        state = (await processPublicMessage(state, m.publicMessage, makePskIndex(state, psks), cs)).newState;
      else assert.fail(`unexpected ${m.wireformat}`);
    }
    assert.deepEqual(state.keySchedule.epochAuthenticator, hex(ep.epoch_authenticator));
  }
  return v.epochs.length;
}

for (const name of ['passive-client-welcome', 'passive-client-handling-commit']) {
  test(`${name}: join, then every epoch's authenticator matches`, async (t) => {
    for (const [i, v] of vectors(name).entries()) {
      await t.test(`suite ${v.cipher_suite} #${i}, ${v.epochs.length} epochs`, async () => {
        assert.equal(await passiveClient(v), v.epochs.length);
      });
    }
  });
}
