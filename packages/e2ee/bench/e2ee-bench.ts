// Benchmarks of the end-to-end layer, printed as figures (not asserted):
//   node packages/e2ee/dist/bench/e2ee-bench.js [--quick]
// Key package generation; a commit adding one device to groups of 2, 10 and 50 (create, process
// at a member, join at the new device); application messages encrypt + decrypt, with Parley's
// crypto provider and, for comparison, ts-mls's stock one.
import { generateKeyPairSync, sign } from 'node:crypto';
import {
  createApplicationMessage,
  createCommit,
  createGroup as mlsCreateGroup,
  defaultCapabilities,
  defaultCryptoProvider,
  defaultLifetime,
  emptyPskIndex,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  processPrivateMessage,
} from 'ts-mls';
import {
  addMembers,
  attachBinding,
  createGroup,
  createKeyPackage,
  type DeviceIdentity,
  decrypt,
  encrypt,
  type GroupState,
  generateDevice,
  joinFromWelcome,
  type LinePolicy,
  PREFERRED_CIPHERSUITE,
  processMessage,
  signBinding,
  type SupportedCiphersuite,
} from '../src/index.js';

const quick = process.argv.includes('--quick');
const suite: SupportedCiphersuite = PREFERRED_CIPHERSUITE;

interface Station {
  name: string;
  publicKey: Uint8Array;
  sign: (m: Uint8Array) => Uint8Array;
}

function station(name: string): Station {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x as string;
  return { name, publicKey: new Uint8Array(Buffer.from(x, 'base64url')), sign: (m) => new Uint8Array(sign(null, m, privateKey)) };
}

const stations = [station('alpha'), station('bravo')];
const handles = Array.from({ length: 64 }, (_, i) => `seat${i}`);
const policy: LinePolicy = {
  stationKeys: new Map(stations.map((s) => [s.name, s.publicKey])),
  seats: stations.flatMap((s) => handles.map((handle) => ({ station: s.name, handle }))),
};

let counter = 0;
async function device(): Promise<DeviceIdentity> {
  counter += 1;
  const st = stations[counter % 2]!;
  const handle = handles[counter % handles.length]!;
  const deviceId = `bench-device-${counter}`;
  const d = await generateDevice({ station: st.name, handle, deviceId, ciphersuite: suite });
  const b = await signBinding({ station: st.name, handle, deviceId, signatureKey: d.signaturePublicKey, issuedAt: Date.now() }, st.sign);
  return attachBinding(d, b, st.publicKey);
}

function stats(samples: number[]): { mean: number; p50: number; p90: number; min: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p90: at(0.9), min: s[0]!, max: s[s.length - 1]! };
}

const ms = (n: number) => `${n.toFixed(2)} ms`;
function line(label: string, samples: number[]): void {
  const x = stats(samples);
  console.log(
    `  ${label.padEnd(44)} mean ${ms(x.mean).padStart(10)}  p50 ${ms(x.p50).padStart(10)}  p90 ${ms(x.p90).padStart(10)}  (n=${samples.length})`,
  );
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

async function keyPackages(): Promise<void> {
  console.log('Key packages');
  const d = await device();
  await createKeyPackage(d); // warm-up: loads the suite
  const samples: number[] = [];
  for (let i = 0; i < (quick ? 10 : 50); i++) samples.push((await time(() => createKeyPackage(d)))[0]);
  line('createKeyPackage', samples);
}

/** A group of `size` devices: the hub plus size-1 members, one of whom we keep a state for. */
async function groupOf(size: number): Promise<{ hub: GroupState; member: GroupState }> {
  const hubDevice = await device();
  let hub = await createGroup(hubDevice, { groupId: `bench-${size}-${counter}`, policy });
  const memberDevice = await device();
  const memberKp = await createKeyPackage(memberDevice);
  const others = await Promise.all(Array.from({ length: size - 2 }, async () => (await createKeyPackage(await device())).keyPackage));
  const add = await addMembers(hub, [memberKp.keyPackage, ...others], policy);
  hub = add.state;
  const member = (await joinFromWelcome(memberDevice, add.welcome, [memberKp.secrets], policy)).state;
  return { hub, member };
}

async function commits(): Promise<void> {
  console.log('Commit adding one device (group size before the add)');
  for (const size of [2, 10, 50]) {
    const { hub, member } = await groupOf(size);
    const create: number[] = [];
    const processAt: number[] = [];
    const join: number[] = [];
    const reps = quick ? 3 : 10;
    for (let i = 0; i < reps; i++) {
      const newcomer = await device();
      const kp = await createKeyPackage(newcomer);
      // States are values: every repetition starts from the same group state.
      const [tc, add] = await time(() => addMembers(hub, [kp.keyPackage], policy));
      const [tp] = await time(() => processMessage(member, add.commit, policy));
      const [tj] = await time(() => joinFromWelcome(newcomer, add.welcome, [kp.secrets], policy));
      create.push(tc);
      processAt.push(tp);
      join.push(tj);
    }
    line(`${String(size).padStart(2)} devices: addMembers (commit + Welcome)`, create);
    line(`${String(size).padStart(2)} devices: processMessage(commit) at a member`, processAt);
    line(`${String(size).padStart(2)} devices: joinFromWelcome at the new device`, join);
  }
}

async function messages(): Promise<void> {
  const n = quick ? 300 : 2000;
  const payload = new Uint8Array(200).fill(0x61);
  console.log(`Application messages (${payload.length}-byte payload, ${n} messages, one sender, one receiver, sequential)`);
  for (const size of [2, 50]) {
    let { hub, member } = await groupOf(size);
    for (let i = 0; i < 50; i++) {
      // warm-up: JIT, key caches
      const e = await encrypt(member, payload);
      member = e.state;
      hub = (await decrypt(hub, e.message, policy)).state;
    }
    let enc = 0;
    let dec = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const t1 = performance.now();
      const e = await encrypt(member, payload);
      const t2 = performance.now();
      member = e.state;
      const d = await decrypt(hub, e.message, policy);
      dec += performance.now() - t2;
      enc += t2 - t1;
      hub = d.state;
    }
    const total = performance.now() - t0;
    console.log(
      `  ${String(size).padStart(2)} devices: encrypt ${ms(enc / n)}, decrypt ${ms(dec / n)}, together ${ms(total / n)} per message = ${Math.round((n * 1000) / total)} msgs/s`,
    );
  }
}

/** The same loop straight on ts-mls with its default provider: what Parley's provider buys. */
async function stockBaseline(): Promise<void> {
  const n = quick ? 100 : 500;
  const impl = await getCiphersuiteImpl(getCiphersuiteFromName(suite), defaultCryptoProvider);
  const cred = (s: string) => ({ credentialType: 'basic' as const, identity: new TextEncoder().encode(s) });
  const a = await generateKeyPackage(cred('a'), defaultCapabilities(), defaultLifetime, [], impl);
  const b = await generateKeyPackage(cred('b'), defaultCapabilities(), defaultLifetime, [], impl);
  let sa = await mlsCreateGroup(new TextEncoder().encode('stock'), a.publicPackage, a.privatePackage, [], impl);
  const c = await createCommit(
    { state: sa, cipherSuite: impl },
    { extraProposals: [{ proposalType: 'add', add: { keyPackage: b.publicPackage } }] },
  );
  sa = c.newState;
  let sb = await joinGroup(c.welcome!, b.publicPackage, b.privatePackage, emptyPskIndex, impl, sa.ratchetTree);
  const payload = new Uint8Array(200).fill(0x61);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const e = await createApplicationMessage(sa, payload, impl);
    sa = e.newState;
    sb = (await processPrivateMessage(sb, e.privateMessage, emptyPskIndex, impl)).newState;
  }
  const total = performance.now() - t0;
  console.log(`  stock ts-mls provider, 2 devices: ${ms(total / n)} per message = ${Math.round((n * 1000) / total)} msgs/s`);
}

console.log(`@parley/e2ee benchmark — ${suite}, Node ${process.version}${quick ? ' (quick)' : ''}`);
await keyPackages();
await commits();
await messages();
await stockBaseline();
