// `npm run bench`: throughput of Umbra's crypto core on this machine, each row beside the same
// operation on the pure-JS noble backend measured in the same run. Prints a Markdown table (the
// README copies it) and, with --json, one JSON line at the end.
import os from 'node:os';
import { nodeBackend } from '../../crypto/backend-node.ts';
import { nobleBackend } from '../../crypto/backend-noble.ts';
import type { CryptoBackend } from '../../crypto/backend.ts';
import { measure, table, type Row } from './harness.ts';

const args = new Set(process.argv.slice(2));
const MS = args.has('--quick') ? 300 : 1000;

function both(name: string, make: (b: CryptoBackend) => () => unknown, extra: Partial<Row> & { bytesPerOp?: number } = {}): Row {
  const opts = { ms: MS, bytesPerOp: extra.bytesPerOp };
  const umbra = measure(make(nodeBackend), opts);
  const baseline = measure(make(nobleBackend), { ...opts, ms: Math.max(200, MS / 2) });
  return { name, umbra, baseline, baselineName: 'noble', target: extra.target };
}

const rows: Row[] = [];
const seed = nodeBackend.x25519.generate();
const peer = nodeBackend.x25519.generate();
rows.push(both('X25519 key generation', (b) => () => b.x25519.generate()));
rows.push(both('X25519 shared secret', (b) => () => b.x25519.dh(seed.secret, peer.publicKey)));
const edSeed = new Uint8Array(32).fill(7);
const msg = new Uint8Array(64).fill(1);
const edPub = nodeBackend.ed25519.publicKey(edSeed);
const sig = nodeBackend.ed25519.sign(edSeed, msg);
rows.push(both('Ed25519 sign (64 B)', (b) => () => b.ed25519.sign(edSeed, msg)));
rows.push(both('Ed25519 verify (64 B)', (b) => () => b.ed25519.verify(edPub, msg, sig)));
const block = new Uint8Array(32 * 1024).fill(3);
rows.push(both('SHA-256 (32 KiB)', (b) => () => b.sha256(block), { bytesPerOp: block.length }));
const key = new Uint8Array(32), nonce = new Uint8Array(12);
rows.push(both('ChaCha20-Poly1305 seal (32 KiB)', (b) => () => b.chacha20poly1305.seal(key, nonce, msg, block), { bytesPerOp: block.length }));

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`Machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`);
console.log(table(rows));
if (args.has('--json')) console.log(JSON.stringify({ machine: cpu, rows }));
