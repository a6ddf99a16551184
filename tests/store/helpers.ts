// Shared helpers for the store tests: an in-memory block map and deterministic content.
import { createHash } from 'node:crypto';

export class MemStore {
  readonly blocks = new Map<string, Uint8Array>();
  puts = 0;
  gets = 0;
  async put(routingKey: Uint8Array, block: Uint8Array): Promise<void> {
    this.puts++;
    this.blocks.set(Buffer.from(routingKey).toString('hex'), block);
  }
  async get(routingKey: Uint8Array): Promise<Uint8Array | null> {
    this.gets++;
    return this.blocks.get(Buffer.from(routingKey).toString('hex')) ?? null;
  }
  has(routingKey: Uint8Array): boolean {
    return this.blocks.has(Buffer.from(routingKey).toString('hex'));
  }
  delete(routingKey: Uint8Array): void {
    this.blocks.delete(Buffer.from(routingKey).toString('hex'));
  }
}

/** n pseudo-random bytes from a seed (SHA-256 in counter mode): cheap, reproducible. */
export function content(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0, i = 0; off < n; off += 32, i++) {
    const h = createHash('sha256').update(`${seed}:${i}`).digest();
    out.set(h.subarray(0, Math.min(32, n - off)), off);
  }
  return out;
}

/** Yields `data` in chunks of the given sizes, cycling. */
export async function* chunks(data: Uint8Array, sizes = [1000, 65536, 7]): AsyncGenerator<Uint8Array> {
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length], data.length - off);
    yield data.subarray(off, off + n);
    off += n;
  }
}

export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of stream) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}

/** A seeded PRNG (mulberry32) for loss patterns. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
