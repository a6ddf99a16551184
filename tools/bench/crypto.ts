// `npm run bench`: throughput of Umbra's crypto core on this machine. Each row runs Umbra's
// default (native) backend and, in the same run, the same operation on the pure-JS noble backend
// and on the all-OpenSSL backend, so the ratios compare like with like. Prints a Markdown table
// (the README copies it) and, with --json, one JSON line at the end. --quick shortens each timing.
import os from 'node:os';
import { nodeBackend, opensslBackend } from '../../crypto/backend-node.ts';
import { nobleBackend } from '../../crypto/backend-noble.ts';
import type { CryptoBackend } from '../../crypto/backend.ts';
import { CgoClient } from '../../crypto/cgo-client.ts';
import { CgoRelay } from '../../crypto/cgo-relay.ts';
import { chkDecode, chkEncode } from '../../crypto/chk.ts';
import { createInitiator, createResponder } from '../../crypto/noise.ts';
import { ntor3ClientFinish, ntor3ClientStart, ntor3ServerHandle } from '../../crypto/ntor3.ts';
import { measure, type Measure, table, type Row } from './harness.ts';

const args = new Set(process.argv.slice(2));
const MS = args.has('--quick') ? 300 : 1500;
const CELL = 509;

interface Spec {
  name: string;
  make: (b: CryptoBackend) => () => unknown;
  bytesPerOp?: number;
  target?: string;
}

function run(s: Spec): Row & { openssl: Measure } {
  const opts = { ms: MS, bytesPerOp: s.bytesPerOp };
  const short = { ...opts, ms: Math.max(250, MS / 3) };
  const umbra = measure(s.make(nodeBackend), opts);
  const openssl = measure(s.make(opensslBackend), short);
  const baseline = measure(s.make(nobleBackend), short);
  process.stderr.write('.');
  return { name: s.name, umbra, baseline, baselineName: 'noble', target: s.target, openssl };
}

// --- fixtures ---
const x = nodeBackend.x25519.generate(), y = nodeBackend.x25519.generate();
const edSeed = new Uint8Array(32).fill(7), msg = new Uint8Array(64).fill(1);
const edPub = nodeBackend.ed25519.publicKey(edSeed), sig = nodeBackend.ed25519.sign(edSeed, msg);
const block = new Uint8Array(32 * 1024).map((_, i) => (i * 31) & 0xff);

function noiseHandshake(be: CryptoBackend): () => void {
  const si = be.x25519.generate(), sr = be.x25519.generate();
  return () => {
    const i = createInitiator({ staticKey: si, remoteStatic: sr.publicKey, backend: be });
    const r = createResponder({ staticKey: sr, backend: be });
    r.readMessage(i.writeMessage());
    i.readMessage(r.writeMessage());
    r.readMessage(i.writeMessage());
    i.split();
    r.split();
  };
}

function ntorHandshake(be: CryptoBackend): () => void {
  const relayId = new Uint8Array(32).fill(1), onion = be.x25519.generate();
  const keys = { relayId, onionKeys: [onion] }, ver = new TextEncoder().encode('circuit extend'), cm = new Uint8Array(20);
  return () => {
    const { onionskin, state } = ntor3ClientStart({ relayId, relayOnionKey: onion.publicKey, message: cm, verification: ver, backend: be });
    const s = ntor3ServerHandle({ onionskin, keys, verification: ver, reply: cm, backend: be });
    ntor3ClientFinish(state, s.reply);
  };
}

const seeds = Array.from({ length: 6 }, (_, i) => new Uint8Array(80).fill(i + 1));
/** A relay forwarding cells meant for a later hop: any 509 bytes do (it cannot tell them apart). */
function relayPassThrough(be: CryptoBackend): () => void {
  const relay = new CgoRelay(seeds[0] as Uint8Array, seeds[1] as Uint8Array, be);
  const cell = new Uint8Array(CELL).map((_, i) => i & 0xff);
  return () => relay.forward(3, cell);
}

/**
 * A relay receiving cells meant for itself, each followed by a key update. The cells must come
 * from a client in step with it, so a fixed batch is prepared first and then timed as a whole.
 */
function relayRecognised(be: CryptoBackend, n: number): Measure {
  const client = new CgoClient(be);
  client.addHop(seeds[0] as Uint8Array, seeds[1] as Uint8Array);
  const relay = new CgoRelay(seeds[0] as Uint8Array, seeds[1] as Uint8Array, be);
  const cells = Array.from({ length: n }, () => {
    const c = new Uint8Array(CELL);
    client.originate(1, 3, c);
    return c;
  });
  const t0 = performance.now();
  for (const c of cells) if (!relay.forward(3, c).recognised) throw new Error('bench: relay lost step');
  const opsPerSec = (n * 1000) / (performance.now() - t0);
  return { opsPerSec, mbPerSec: (opsPerSec * CELL) / 1e6 };
}

function relayOriginate(be: CryptoBackend): () => void {
  const relay = new CgoRelay(seeds[0] as Uint8Array, seeds[1] as Uint8Array, be);
  const cell = new Uint8Array(CELL);
  return () => relay.originate(3, cell);
}

function clientOriginate3(be: CryptoBackend): () => void {
  const client = new CgoClient(be);
  for (let h = 0; h < 3; h++) client.addHop(seeds[2 * h] as Uint8Array, seeds[2 * h + 1] as Uint8Array);
  const cell = new Uint8Array(CELL);
  return () => client.originate(3, 3, cell);
}

const specs: Spec[] = [
  { name: 'X25519 key generation', make: (b) => () => b.x25519.generate() },
  { name: 'X25519 shared secret', make: (b) => () => b.x25519.dh(x.secret, y.publicKey) },
  { name: 'Ed25519 sign (64 B)', make: (b) => () => b.ed25519.sign(edSeed, msg) },
  { name: 'Ed25519 verify (64 B)', make: (b) => () => b.ed25519.verify(edPub, msg, sig) },
  { name: 'ntor v3 full handshake (client + relay)', make: ntorHandshake, target: '≥ 4,000/s' },
  { name: 'Noise XK full handshake (both sides)', make: noiseHandshake, target: '≥ 3,000/s' },
  { name: 'CGO relay forward, cell passing through', make: relayPassThrough, bytesPerOp: CELL, target: '≥ 76,000/s' },
  { name: 'CGO relay originate', make: relayOriginate, bytesPerOp: CELL },
  { name: 'CGO client originate, 3 hops', make: clientOriginate3, bytesPerOp: CELL, target: '≥ 14,000/s' },
  { name: 'CHK encode (32 KiB block)', make: (b) => () => chkEncode(block, b), bytesPerOp: block.length, target: '≥ 300 MB/s' },
];
const chk = chkEncode(block);
specs.push({ name: 'CHK decode (32 KiB block)', make: (b) => () => chkDecode(chk.routingKey, chk.cryptoKey, chk.block, b), bytesPerOp: block.length });

const rows = specs.map(run);
const N = args.has('--quick') ? 5_000 : 40_000;
relayRecognised(nodeBackend, 2_000); // warm-up
const recognised = { umbra: relayRecognised(nodeBackend, N), openssl: relayRecognised(opensslBackend, N / 4), baseline: relayRecognised(nobleBackend, N / 4) };
rows.splice(rows.findIndex((r) => r.name.startsWith('CGO relay forward')) + 1, 0, {
  name: 'CGO relay forward, cell for this relay (key update)',
  ...recognised,
  baselineName: 'noble',
});
process.stderr.write('\n');
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`Machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log(table(rows, { extraName: 'node:crypto only', extra: rows.map((r) => r.openssl) }));
if (args.has('--json')) console.log(JSON.stringify({ machine: cpu, rows }));
