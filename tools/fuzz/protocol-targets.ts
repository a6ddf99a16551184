// Fuzz targets for the protocol decoders above the link: routing messages (type byte ‖ CBOR),
// signed node descriptors, content manifests (the decrypted root block of a CHK URI) and content
// URIs. Seeds are real encodings made here; the typed error of each layer is the only allowed
// failure.
import { chkDecode } from '../../crypto/chk.ts';
import { generateIdentity } from '../../crypto/identity.ts';
import { decodeDescriptor, selfDescriptor } from '../../routing/descriptor.ts';
import { isRoutingError } from '../../routing/errors.ts';
import { decodeMessage, encodeMessage, type RoutingMessage } from '../../routing/messages.ts';
import { StoreError } from '../../store/errors.ts';
import { decodeRoot } from '../../store/manifest.ts';
import { insertContent } from '../../store/split.ts';
import { parseChkUri, parseUri } from '../../store/uri.ts';
import type { FuzzTarget } from './harness.ts';

const fill = (n: number, v: number) => new Uint8Array(n).fill(v);
const desc = selfDescriptor(generateIdentity(), ['127.0.0.1:7700', '[::1]:7700'], 1_700_000_000_000).bytes;
const id = fill(16, 1), key = fill(32, 2), nonce = fill(8, 3);
const messages: RoutingMessage[] = [
  { type: 'ROUTE', id, key, htl: 9, purpose: 'FIND_NODE' },
  { type: 'ROUTE', id, key, htl: 9, purpose: 'PUT_BLOCK', kind: 'CHK', block: fill(300, 4) },
  { type: 'ROUTE_REPLY', id, hops: 3, node: desc },
  { type: 'ROUTE_REJECT', id, reason: 'NOT_FOUND' },
  { type: 'PEX_REQUEST', nonce, target: key, max: 8, self: desc },
  { type: 'PEX_RESPONSE', nonce, descriptors: [desc, desc] },
  { type: 'BLOCK_REPLY', id, hops: 2, block: fill(200, 5) },
  { type: 'PUT_REPLY', id, hops: 1, stored: 3 },
  { type: 'PING', nonce },
  { type: 'HAVE', nonce, keys: [fill(33, 0), fill(33, 1).fill(0, 0, 1)] },
  { type: 'HAVE_REPLY', nonce, missing: [0, 3, 7] },
];

// A real manifest root: insert small and larger content with a discarding store, keep the blocks.
async function rootPlaintext(size: number, name: string): Promise<{ plain: Uint8Array; uri: string }> {
  const blocks = new Map<string, Uint8Array>();
  const { uri } = await insertContent([fill(size, 7)], {
    fileName: name,
    contentType: 'text/plain',
    putBlock: async (rk, b) => void blocks.set(Buffer.from(rk).toString('hex'), b),
  });
  const k = parseChkUri(uri);
  const block = blocks.get(Buffer.from(k.routingKey).toString('hex')) as Uint8Array;
  return { plain: chkDecode(k.routingKey, k.cryptoKey, block), uri };
}
const small = await rootPlaintext(10, 'a.txt');
const large = await rootPlaintext(3 * 1024 * 1024, 'b.bin');

const utf8 = (s: string) => new TextEncoder().encode(s);
const isStore = (e: unknown) => e instanceof StoreError;

export const protocolTargets: FuzzTarget[] = [
  { name: 'routing-message', seeds: messages.map(encodeMessage), decode: (b) => decodeMessage(b), isTypedError: isRoutingError },
  { name: 'descriptor', seeds: [desc], decode: (b) => decodeDescriptor(b), isTypedError: isRoutingError },
  { name: 'manifest-root', seeds: [small.plain, large.plain], decode: (b) => decodeRoot(b), isTypedError: isStore },
  { name: 'content-uri', seeds: [utf8(small.uri), utf8(large.uri)], decode: (b) => parseUri(new TextDecoder().decode(b)), isTypedError: isStore },
];
