// Fuzz targets for every non-CBOR decoder that faces a peer or the disk: link frames, cells and
// message fragments, contact strings, the Noise handshake messages, ntor v3 onionskins and replies,
// CGO relay cells in both directions, CHK and SSK blocks, and key files. Each target builds fresh
// protocol state per input where the protocol is stateful, so every input meets the decoder in the
// state a first hostile message would. The typed error of each layer is the only allowed failure.
import { nodeBackend } from '../../crypto/backend-node.ts';
import { CgoClient } from '../../crypto/cgo-client.ts';
import { CgoRelay } from '../../crypto/cgo-relay.ts';
import { chkDecode, chkEncode, chkRoutingKey } from '../../crypto/chk.ts';
import { CryptoError } from '../../crypto/errors.ts';
import { decodeKeyFile, encodeKeyFile, generateIdentity } from '../../crypto/identity.ts';
import { createInitiator, createResponder } from '../../crypto/noise.ts';
import { ntor3ClientFinish, ntor3ClientStart, ntor3ServerHandle } from '../../crypto/ntor3.ts';
import { sskDecode, sskEncode, sskKeypair, sskVerify } from '../../crypto/ssk.ts';
import { CELL_BODY_LEN } from '../../node/constants.ts';
import { ContactError, formatContact, parseContact } from '../../node/contact.ts';
import { encodeFrame, FrameReader } from '../../node/frame-reader.ts';
import { CellReader, encodeCells } from '../../node/link-cells.ts';
import { LinkError } from '../../node/link-errors.ts';
import type { FuzzTarget } from './harness.ts';

const isCrypto = (e: unknown) => e instanceof CryptoError;
const isLink = (e: unknown) => e instanceof LinkError;
const seedBytes = (n: number, v: number) => new Uint8Array(n).fill(v);

// --- Link layer ---
const cells = encodeCells([seedBytes(1200, 5), { circId: 7, command: 3, body: seedBytes(CELL_BODY_LEN, 6) }, seedBytes(20, 7)]);
/** Reads `frames` through one CellReader: the messages and cells that come out (a run may span frames). */
function readCells(...frames: Uint8Array[]): unknown[] {
  const out: unknown[] = [];
  const reader = new CellReader();
  for (const f of frames) reader.read(f, (m) => (out.push(m), true), (circId, command) => (out.push([circId, command]), true));
  return out;
}

// --- Noise: a responder meeting message 1, an initiator meeting message 2 ---
const serverStatic = nodeBackend.x25519.generate();
const clientStatic = nodeBackend.x25519.generate();
const msg1 = createInitiator({ staticKey: clientStatic, remoteStatic: serverStatic.publicKey }).writeMessage(seedBytes(1, 1));
const pairForMsg2 = () => {
  const i = createInitiator({ staticKey: clientStatic, remoteStatic: serverStatic.publicKey });
  const r = createResponder({ staticKey: serverStatic });
  r.readMessage(i.writeMessage());
  return { i, msg2: r.writeMessage(seedBytes(33, 2)) };
};

// --- ntor v3 ---
const relayId = seedBytes(32, 7);
const onion = nodeBackend.x25519.generate();
const relayKeys = { relayId, onionKeys: [onion] };
const VER = new TextEncoder().encode('circuit extend');
const start = () => ntor3ClientStart({ relayId, relayOnionKey: onion.publicKey, message: seedBytes(20, 3), verification: VER });
const { onionskin } = start();
const { reply } = ntor3ServerHandle({ onionskin, keys: relayKeys, verification: VER, reply: seedBytes(10, 4) });

// --- CGO: 80-byte seeds per direction ---
const fwd = seedBytes(80, 9), bwd = seedBytes(80, 10);
const cgoCell = () => {
  const r = new CgoRelay(fwd, bwd);
  const cell = seedBytes(CELL_BODY_LEN, 0);
  r.originate(3, cell);
  return cell;
};

// --- Content and key files ---
const chk = chkEncode(seedBytes(1000, 11));
const ssk = sskKeypair();
const sskBlock = sskEncode({ seed: ssk.seed, cryptoKey: ssk.cryptoKey, docName: 'index', version: 3, payload: seedBytes(100, 12) });
const keyFile = encodeKeyFile(generateIdentity());

export const netTargets: FuzzTarget[] = [
  {
    name: 'link-frames',
    seeds: [encodeFrame(seedBytes(100, 1)), Uint8Array.of(0, 1, 0, 0, 2, 5, 5)],
    decode: (b) => new FrameReader(4096).push(b),
    isTypedError: isLink,
  },
  { name: 'link-cells', seeds: [cells], decode: (b) => readCells(b), isTypedError: isLink },
  {
    name: 'link-messages', // the same bytes cut into two frames at a cell boundary: runs that go on in the next frame
    seeds: [cells],
    decode: (b) => {
      const cut = Math.floor(b.length / 514 / 2) * 514;
      return cut > 0 ? readCells(b.subarray(0, cut), b.subarray(cut)) : readCells(b);
    },
    isTypedError: isLink,
  },
  {
    name: 'contact',
    seeds: [new TextEncoder().encode(formatContact({ identityKey: seedBytes(32, 1), host: '::1', port: 7700 }))],
    decode: (b) => parseContact(new TextDecoder().decode(b)),
    isTypedError: (e) => e instanceof ContactError,
  },
  {
    name: 'noise-msg1',
    seeds: [msg1],
    decode: (b) => createResponder({ staticKey: serverStatic }).readMessage(b),
    isTypedError: isCrypto,
  },
  {
    name: 'noise-msg2',
    seeds: [pairForMsg2().msg2],
    decode: (b) => pairForMsg2().i.readMessage(b),
    isTypedError: isCrypto,
  },
  {
    name: 'ntor3-onionskin',
    seeds: [onionskin],
    decode: (b) => ntor3ServerHandle({ onionskin: b, keys: relayKeys, verification: VER, reply: seedBytes(4, 1) }),
    isTypedError: isCrypto,
  },
  { name: 'ntor3-reply', seeds: [reply], decode: (b) => ntor3ClientFinish(start().state, b), isTypedError: isCrypto },
  {
    name: 'cgo-backward',
    seeds: [cgoCell()],
    decode: (b) => {
      if (b.length !== CELL_BODY_LEN) throw new CryptoError('BAD_MESSAGE', 'not a cell'); // links carry only whole cells
      const c = new CgoClient();
      c.addHop(fwd, bwd);
      return c.decryptBackward(3, b.slice());
    },
    isTypedError: isCrypto,
  },
  {
    name: 'cgo-forward',
    seeds: [cgoCell()],
    decode: (b) => {
      if (b.length !== CELL_BODY_LEN) throw new CryptoError('BAD_MESSAGE', 'not a cell');
      return new CgoRelay(fwd, bwd).forward(3, b.slice());
    },
    isTypedError: isCrypto,
  },
  {
    name: 'chk-block',
    seeds: [chk.block],
    // The routing key is taken from the hostile block itself, so decoding gets past the hash check.
    decode: (b) => chkDecode(b.length === chk.block.length ? chkRoutingKey(b) : chk.routingKey, chk.cryptoKey, b),
    isTypedError: isCrypto,
  },
  {
    name: 'ssk-block',
    seeds: [sskBlock.block],
    decode: (b) => {
      sskVerify(sskBlock.routingKey, b);
      return sskDecode({ routingKey: sskBlock.routingKey, cryptoKey: ssk.cryptoKey, docName: 'index', block: b });
    },
    isTypedError: isCrypto,
  },
  { name: 'key-file', seeds: [keyFile], decode: (b) => decodeKeyFile(b), isTypedError: isCrypto },
];
