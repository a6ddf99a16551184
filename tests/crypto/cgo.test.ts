// CGO (Tor proposal 359): every arti vector (PRF, ET, UIV+, UIV+ update, relay forward/backward and
// originate, client originate over 3 hops) on both AES engines; then what no vector covers: a
// 3-hop round trip in both directions with a key update on every cell, and tamper resistance.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { nobleBackend } from '../../crypto/backend-noble.ts';
import { nodeBackend } from '../../crypto/backend-node.ts';
import type { CryptoBackend } from '../../crypto/backend.ts';
import { fromHex, toHex } from '../../crypto/bytes.ts';
import { cgoEt, cgoPrf, CgoState, splitCgoKeyMaterial, Uiv } from '../../crypto/cgo.ts';
import { aesBlocksFor } from '../../crypto/aes-blocks.ts';
import { CgoClient } from '../../crypto/cgo-client.ts';
import { CgoRelay } from '../../crypto/cgo-relay.ts';
import {
  CGO_AD_RELAY, CGO_AD_RELAY_EARLY, CGO_KEY_MATERIAL_LEN, CGO_SEED_LEN, RELAY_BODY_LEN,
} from '../../crypto/constants.ts';

type Vectors = { source: string; tables: Record<string, { fields: string[]; vectors: unknown[][] }> };
const load = (name: string): Vectors =>
  JSON.parse(readFileSync(new URL(`../vectors/${name}.json`, import.meta.url), 'utf8')) as Vectors;
const table = (name: string, tab: string): unknown[][] => load(name).tables[tab].vectors;
const rnd = (n: number) => new Uint8Array(randomBytes(n));
const BACKENDS: CryptoBackend[] = [nodeBackend, nobleBackend];

/** A relay state (K, N, T') as the vectors give it, in a CgoRelay's forward or backward slot. */
function relayWith(r: string[], be: CryptoBackend): CgoRelay {
  const seed = fromHex(r[0] + r[1]);
  const relay = new CgoRelay(seed, seed, be);
  relay.forwardState.tag.set(fromHex(r[2]));
  relay.backwardState.tag.set(fromHex(r[2]));
  return relay;
}

const stateOf = (s: CgoState): string[] => [toHex(s.uiv.currentKey()), toHex(s.nonce), toHex(s.tag)];

let vectorCount = 0;

t.test('vector files keep their source', async (t) => {
  for (const f of ['cgo_prf', 'cgo_et', 'cgo_uiv', 'cgo_relay', 'cgo_client']) t.match(load(f).source, /arti/);
});

for (const be of BACKENDS) {
  t.test(`PRF vectors (${be.name})`, async (t) => {
    for (const [key, tt, tweak, out] of table('cgo_prf', 'PRF_TEST_VECTORS') as [string, 0 | 1, string, string][]) {
      t.equal(toHex(cgoPrf(fromHex(key), fromHex(tweak), tt, be)), out);
      vectorCount++;
    }
  });

  t.test(`ET vectors (${be.name})`, async (t) => {
    for (const [enc, key, tweak, m, out] of table('cgo_et', 'ET_TEST_VECTORS') as [boolean, string, string, string, string][]) {
      t.equal(toHex(cgoEt(fromHex(key), fromHex(tweak), fromHex(m), !enc, be)), out);
      vectorCount++;
    }
  });

  t.test(`UIV+ vectors (${be.name})`, async (t) => {
    type Row = [boolean, string, string, string, string, string[]];
    for (const [enc, key, h, xl, xr, [yl, yr]] of table('cgo_uiv', 'UIV_TEST_VECTORS') as Row[]) {
      const uiv = new Uiv(fromHex(key), aesBlocksFor(be));
      const cell = fromHex(xl + xr);
      const hb = fromHex(h);
      if (enc) uiv.encrypt(hb.subarray(0, 16), hb[16], cell);
      else uiv.decrypt(hb.subarray(0, 16), hb[16], cell);
      t.equal(toHex(cell), yl + yr);
      vectorCount++;
    }
  });

  t.test(`UIV+ update vectors (${be.name})`, async (t) => {
    for (const [key, n, [key2, n2]] of table('cgo_uiv', 'UIV_UPDATE_TEST_VECTORS') as [string, string, string[]][]) {
      const uiv = new Uiv(fromHex(key), aesBlocksFor(be));
      const nonce = fromHex(n);
      uiv.update(nonce);
      t.equal(toHex(nonce), n2);
      t.equal(toHex(uiv.currentKey()), key2);
      // The updated Uiv behaves as a fresh one made from the new key.
      const fresh = new Uiv(fromHex(key2), aesBlocksFor(be));
      const a = rnd(RELAY_BODY_LEN), b = a.slice(), tag = rnd(16);
      uiv.encrypt(tag, 3, a);
      fresh.encrypt(tag, 3, b);
      t.same(a, b);
      vectorCount++;
    }
  });

  t.test(`relay forward/backward vectors (${be.name})`, async (t) => {
    type Row = [boolean, string[], string, string, string, [string[], string[]]];
    for (const [inbound, r, ad, tag, c, [r2, [tOut, cOut]]] of table('cgo_relay', 'CGO_RELAY_TEST_VECTORS') as Row[]) {
      const relay = relayWith(r, be);
      const cell = fromHex(tag + c);
      if (inbound) relay.backward(fromHex(ad)[0], cell);
      else relay.forward(fromHex(ad)[0], cell);
      t.equal(toHex(cell), tOut + cOut);
      t.same(stateOf(inbound ? relay.backwardState : relay.forwardState), r2);
      vectorCount++;
    }
  });

  t.test(`relay originate vectors (${be.name})`, async (t) => {
    type Row = [string[], string, string, [string[], string[]]];
    for (const [r, ad, m, [r2, [tOut, cOut]]] of table('cgo_relay', 'CGO_RELAY_ORIGINATE_TEST_VECTORS') as Row[]) {
      const relay = relayWith(r, be);
      const cell = new Uint8Array(RELAY_BODY_LEN);
      cell.set(fromHex(m), 16);
      const sendme = relay.originate(fromHex(ad)[0], cell);
      t.equal(toHex(cell), tOut + cOut);
      t.same(stateOf(relay.backwardState), r2);
      t.equal(toHex(sendme), tOut, 'the SENDME tag is the tag sent');
      vectorCount++;
    }
  });

  t.test(`client originate vectors (${be.name})`, async (t) => {
    type Row = [string[][], number, string, string, [string[][], string[]]];
    for (const [ss, d, ad, m, [ss2, [tOut, cOut]]] of table('cgo_client', 'CGO_CLIENT_ORIGINATE_TEST_VECTORS') as Row[]) {
      const client = new CgoClient(be);
      for (const s of ss) {
        const seed = fromHex(s[0] + s[1]);
        client.addHop(seed, seed);
      }
      ss.forEach((s, i) => client.forwardState(i + 1).tag.set(fromHex(s[2])));
      const cell = new Uint8Array(RELAY_BODY_LEN);
      cell.set(fromHex(m), 16);
      client.originate(d, fromHex(ad)[0], cell);
      t.equal(toHex(cell), tOut + cOut);
      t.same(ss.map((_, i) => stateOf(client.forwardState(i + 1))), ss2);
      vectorCount++;
    }
  });
}

t.test('all 94 vectors ran on each engine', async (t) => {
  t.equal(vectorCount, 2 * 94);
});

// ---------------------------------------------------------------------------------------------
// A simulated 3-hop circuit: the client and three relays from random handshake key material.

interface Circuit {
  client: CgoClient;
  relays: CgoRelay[];
}

function circuit(hops = 3, be: CryptoBackend = nodeBackend): Circuit {
  const client = new CgoClient(be);
  const relays: CgoRelay[] = [];
  for (let i = 0; i < hops; i++) {
    const km = rnd(CGO_KEY_MATERIAL_LEN);
    relays.push(CgoRelay.fromKeyMaterial(km, be).relay);
    client.addHopFromKeyMaterial(km);
  }
  return { client, relays };
}

/**
 * Send a cell down the circuit; `tamper(hop, cell)` may alter it on the link into relay `hop`
 * (1-based). Returns the hop that recognised it (0 for none) with the body and SENDME tag there.
 */
function sendForward(
  c: Circuit, cmd: number, cell: Uint8Array, tamper?: (hop: number, cell: Uint8Array) => void,
): { hop: number; body: Uint8Array; sendme?: Uint8Array } {
  for (let i = 0; i < c.relays.length; i++) {
    tamper?.(i + 1, cell);
    const r = c.relays[i].forward(cmd, cell);
    if (r.recognised) return { hop: i + 1, body: cell.slice(16), sendme: r.sendmeTag };
  }
  return { hop: 0, body: cell.slice(16) };
}

/** Relay `from` (1-based) originates a cell; `tamper(hop, cell)` may alter it on the link leaving relay `hop`. */
function sendBackward(
  c: Circuit, from: number, cmd: number, body: Uint8Array, tamper?: (hop: number, cell: Uint8Array) => void,
): { cell: Uint8Array; sendme: Uint8Array } {
  const cell = new Uint8Array(RELAY_BODY_LEN);
  cell.set(body, 16);
  const sendme = c.relays[from - 1].originate(cmd, cell);
  tamper?.(from, cell);
  for (let i = from - 2; i >= 0; i--) {
    c.relays[i].backward(cmd, cell);
    tamper?.(i + 1, cell);
  }
  return { cell, sendme };
}

t.test('3-hop round trip: every hop, both directions, many cells with key updates', async (t) => {
  for (const be of BACKENDS) {
    const c = circuit(3, be);
    const rounds = be.name === 'node' ? 300 : 40;
    let ok = 0, hidden = 0;
    for (let n = 0; n < rounds; n++) {
      const cmd = n % 7 === 0 ? CGO_AD_RELAY_EARLY : CGO_AD_RELAY;
      // forward to hop d, where d cycles and sometimes repeats
      const d = 1 + ((n * 5 + (n >> 3)) % 3);
      const body = rnd(493);
      const cell = new Uint8Array(RELAY_BODY_LEN);
      cell.set(body, 16);
      const sendme = c.client.originate(d, cmd, cell);
      if (toHex(cell.subarray(16)) !== toHex(body)) hidden++;
      const got = sendForward(c, cmd, cell);
      // backward from hop e
      const e = 1 + ((n * 7 + 1) % 3);
      const back = rnd(493);
      const b = sendBackward(c, e, cmd, back);
      const res = c.client.decryptBackward(cmd, b.cell);
      if (got.hop === d && toHex(got.body) === toHex(body) && toHex(got.sendme!) === toHex(sendme) &&
        res.hop === e && toHex(b.cell.subarray(16)) === toHex(back) && toHex(res.sendmeTag) === toHex(b.sendme)) ok++;
    }
    t.equal(ok, rounds, `${be.name}: every cell reached exactly its hop intact, with matching SENDME tags`);
    t.equal(hidden, rounds, `${be.name}: no body travels in the clear`);
  }
});

t.test('forward cells are recognised only at their hop (intermediate hops pass them on)', async (t) => {
  const c = circuit();
  for (let d = 1; d <= 3; d++) {
    const cell = new Uint8Array(RELAY_BODY_LEN);
    c.client.originate(d, CGO_AD_RELAY, cell);
    const seen: boolean[] = [];
    for (let i = 0; i < d; i++) seen.push(c.relays[i].forward(CGO_AD_RELAY, cell).recognised);
    t.same(seen, [...Array(d - 1).fill(false), true], `cell for hop ${d}`);
  }
});

t.test('the AD (channel command) is authenticated', async (t) => {
  const c = circuit();
  const cell = new Uint8Array(RELAY_BODY_LEN);
  c.client.originate(2, CGO_AD_RELAY_EARLY, cell);
  t.equal(sendForward(c, CGO_AD_RELAY, cell).hop, 0, 'RELAY_EARLY sent, RELAY received: not recognised');
  const c2 = circuit();
  const b = sendBackward(c2, 3, CGO_AD_RELAY, rnd(493));
  t.throws(() => c2.client.decryptBackward(CGO_AD_RELAY_EARLY, b.cell), { name: 'CryptoError', code: 'CELL_REJECTED' });
});

// Bit positions spread over the whole 509-byte body: all of the tag, then every 29th bit of C.
const BITS: number[] = [];
for (let bit = 0; bit < RELAY_BODY_LEN * 8; bit += bit < 128 ? 11 : 29) BITS.push(bit);
BITS.push(RELAY_BODY_LEN * 8 - 1);
const flip = (cell: Uint8Array, bit: number) => {
  cell[bit >> 3] ^= 1 << (bit & 7);
};

t.test('forward tampering: a flipped bit on any link is recognised nowhere, and the circuit stays broken', async (t) => {
  let cases = 0, failures = 0;
  for (let d = 1; d <= 3; d++) {
    for (let k = 1; k <= d; k++) {
      for (const bit of BITS) {
        const c = circuit();
        // a few good cells first, so the states are past their initial keys
        for (let n = 0; n < 2; n++) {
          const cell = new Uint8Array(RELAY_BODY_LEN);
          const s = c.client.originate(1 + ((n + d) % 3), CGO_AD_RELAY, cell);
          if (sendForward(c, CGO_AD_RELAY, cell).hop === 0 || s.length !== 16) failures++;
        }
        const cell = new Uint8Array(RELAY_BODY_LEN);
        cell.set(rnd(493), 16);
        c.client.originate(d, CGO_AD_RELAY, cell);
        const r = sendForward(c, CGO_AD_RELAY, cell, (hop, x) => hop === k && flip(x, bit));
        if (r.hop !== 0) failures++; // unrecognised everywhere: the last hop tears the circuit down
        // Even without a teardown, every later cell that crosses the tampered link fails everywhere.
        for (let n = 0; n < 3; n++) {
          const later = new Uint8Array(RELAY_BODY_LEN);
          const to = k + (n % (4 - k));
          later.set(rnd(493), 16);
          c.client.originate(to, CGO_AD_RELAY, later);
          if (sendForward(c, CGO_AD_RELAY, later).hop !== 0) failures++;
        }
        cases++;
      }
    }
  }
  t.equal(failures, 0, `${cases} tampered forward cells (every destination, link and bit position)`);
});

t.test('forward tampering never yields an altered delivery at hops before the tampered link', async (t) => {
  const c = circuit();
  const cell = new Uint8Array(RELAY_BODY_LEN);
  c.client.originate(3, CGO_AD_RELAY, cell);
  t.equal(sendForward(c, CGO_AD_RELAY, cell, (hop, x) => hop === 3 && flip(x, 1000)).hop, 0);
  // hops 1 and 2 still match the client; whatever they deliver is exactly what was sent
  for (const d of [1, 2, 1]) {
    const body = rnd(493);
    const x = new Uint8Array(RELAY_BODY_LEN);
    x.set(body, 16);
    c.client.originate(d, CGO_AD_RELAY, x);
    const r = sendForward(c, CGO_AD_RELAY, x);
    t.equal(r.hop, d);
    t.same(r.body, body);
  }
});

t.test('backward tampering: a flipped bit on any link is rejected, and every later cell too', async (t) => {
  let cases = 0, failures = 0;
  for (let from = 1; from <= 3; from++) {
    for (let link = 1; link <= from; link++) {
      for (const bit of BITS) {
        const c = circuit();
        for (let n = 0; n < 2; n++) {
          const b = sendBackward(c, 1 + ((n + from) % 3), CGO_AD_RELAY, rnd(493));
          if (c.client.decryptBackward(CGO_AD_RELAY, b.cell).hop < 1) failures++;
        }
        const b = sendBackward(c, from, CGO_AD_RELAY, rnd(493), (hop, x) => hop === link && flip(x, bit));
        try {
          c.client.decryptBackward(CGO_AD_RELAY, b.cell);
          failures++;
        } catch (e) {
          if ((e as { code?: string }).code !== 'CELL_REJECTED') failures++;
        }
        if (!c.client.failed) failures++;
        for (let hop = 1; hop <= 3; hop++) {
          const later = sendBackward(c, hop, CGO_AD_RELAY, rnd(493));
          try {
            c.client.decryptBackward(CGO_AD_RELAY, later.cell);
            failures++;
          } catch (e) {
            if ((e as { code?: string }).code !== 'CELL_REJECTED') failures++;
          }
        }
        cases++;
      }
    }
  }
  t.equal(failures, 0, `${cases} tampered backward cells (every origin, link and bit position)`);
  const c = circuit();
  const b = sendBackward(c, 2, CGO_AD_RELAY, rnd(493), (hop, x) => hop === 1 && flip(x, 7));
  t.throws(() => c.client.decryptBackward(CGO_AD_RELAY, b.cell), { name: 'CryptoError', code: 'CELL_REJECTED' });
  t.throws(() => c.client.originate(1, CGO_AD_RELAY, new Uint8Array(RELAY_BODY_LEN)),
    { name: 'CryptoError', code: 'BAD_STATE' });
});

t.test('backward tampering is caught by the crypto, not only by the failed flag', async (t) => {
  // A flip in the body of a cell from hop 3 on the link 3 -> 2: layers 1 and 2 decrypt it as
  // relay traffic, layer 3 gets a garbled tweak, so no layer's nonce matches.
  for (const bit of [128, 2000, 4071]) {
    const c = circuit();
    const b = sendBackward(c, 3, CGO_AD_RELAY, rnd(493), (hop, x) => hop === 3 && flip(x, bit));
    t.throws(() => c.client.decryptBackward(CGO_AD_RELAY, b.cell), { name: 'CryptoError', code: 'CELL_REJECTED' });
  }
});

t.test('misuse throws TypeError/RangeError and leaves the state usable', async (t) => {
  const c = circuit(2);
  t.throws(() => c.client.originate(0, CGO_AD_RELAY, new Uint8Array(RELAY_BODY_LEN)), RangeError);
  t.throws(() => c.client.originate(3, CGO_AD_RELAY, new Uint8Array(RELAY_BODY_LEN)), RangeError);
  t.throws(() => c.client.originate(1, CGO_AD_RELAY, new Uint8Array(508)), RangeError);
  t.throws(() => c.client.originate(1, 256, new Uint8Array(RELAY_BODY_LEN)), RangeError);
  t.throws(() => c.relays[0].forward(CGO_AD_RELAY, new Uint8Array(510)), RangeError);
  t.throws(() => c.relays[0].forward(-1, new Uint8Array(RELAY_BODY_LEN)), RangeError);
  t.throws(() => c.client.decryptBackward(CGO_AD_RELAY, 'x' as unknown as Uint8Array), TypeError);
  t.throws(() => new CgoRelay(new Uint8Array(CGO_SEED_LEN - 1), new Uint8Array(CGO_SEED_LEN)), RangeError);
  t.throws(() => CgoRelay.fromKeyMaterial(new Uint8Array(CGO_KEY_MATERIAL_LEN + 1)), RangeError);
  const cell = new Uint8Array(RELAY_BODY_LEN);
  c.client.originate(2, CGO_AD_RELAY, cell);
  t.equal(sendForward(c, CGO_AD_RELAY, cell).hop, 2, 'the circuit still works after the refused calls');
  const b = sendBackward(c, 2, CGO_AD_RELAY, new Uint8Array(493));
  t.equal(c.client.decryptBackward(CGO_AD_RELAY, b.cell).hop, 2);
});

t.test('key material splits as forward seed ‖ backward seed ‖ binding, on both sides', async (t) => {
  const km = rnd(CGO_KEY_MATERIAL_LEN);
  const parts = splitCgoKeyMaterial(km);
  t.same(parts.forward, km.subarray(0, 80));
  t.same(parts.backward, km.subarray(80, 160));
  t.same(parts.binding, km.subarray(160));
  t.same(CgoRelay.fromKeyMaterial(km).binding, parts.binding);
  t.same(new CgoClient().addHopFromKeyMaterial(km), parts.binding);
  const copy = km.slice();
  CgoRelay.fromKeyMaterial(km);
  t.same(km, copy, 'the caller\'s key material is not modified');
});

t.test('a new state starts with T\' = 0 and the seed\'s nonce', async (t) => {
  const seed = rnd(CGO_SEED_LEN);
  const s = new CgoState(seed);
  t.same(s.tag, new Uint8Array(16));
  t.same(s.nonce, seed.subarray(64));
  t.same(s.uiv.currentKey(), seed.subarray(0, 64));
});
