// The routing protocol's messages and their codecs: one strict decoder per message type
// (STYLE.md habit 3). A message is one type byte followed by the CBOR struct of that type
// (routing/wire), so the dispatcher picks the decoder from a cheap first check and no other
// parser ever sees the bytes. DESIGN.md layer 3 (recursive key routing, membership).
//
//   type  name           fields
//   0x01  ROUTE          id (16), key (32), htl (1..HTL_MAX), purpose, payload?, kind?, block?, copies?
//                        key-routed request; purpose FIND_NODE carries neither kind nor block,
//                        GET_BLOCK and PEEK_BLOCK (one hop: "your copy?") a kind, PUT_BLOCK and
//                        STORE_BLOCK (a replica) a kind and a block; PUT_BLOCK alone may ask for
//                        `copies` (1..BLOCK_COPIES_MAX) instead of the end node's default
//   0x02  ROUTE_ACCEPTED id                                               next hop took the request
//   0x03  ROUTE_REPLY    id, hops, node (descriptor bytes), payload?      answer, back along the path
//   0x04  ROUTE_REJECT   id, reason (LOOP, OVERLOAD, HTL, NO_ROUTE, NOT_FOUND)  try elsewhere / give up
//   0x05  PEX_REQUEST    nonce (8), target (32), max (1..PEX_MAX), self?  "your peers closest to target"
//   0x06  PEX_RESPONSE   nonce, descriptors (0..PEX_MAX descriptor bytes)
//   0x07  PING           nonce
//   0x08  PONG           nonce
//   0x09  BLOCK_REPLY    id, hops, block                                  a GET_BLOCK's block, back along the path
//   0x0a  PUT_REPLY      id, hops, stored (0..255)                        a PUT_BLOCK's ack: copies stored
//   0x0b  HAVE           nonce, keys (1..HAVE_MAX_KEYS of kind byte ‖ key) "do you store these?" (repair)
//   0x0c  HAVE_REPLY     nonce, missing (indices into keys, ascending)    the ones not in the 'store' role
// Descriptors travel as their exact signed bytes (routing/descriptor.ts decodes and checks them).
// GET/PUT ride on ROUTE (purpose, kind, block); a block is at most BLOCK_MAX_LEN bytes, so every
// message stays under WIRE_MAX_MESSAGE. Blocks are checked against their key by the router, not here.

import {
  BLOCK_COPIES_MAX,
  BLOCK_MAX_LEN,
  DESCRIPTOR_MAX_LEN,
  HAVE_MAX_KEYS,
  HTL_MAX,
  KEY_LEN,
  NONCE_LEN,
  PEX_MAX,
  ROUTE_ID_LEN,
  ROUTE_PAYLOAD_MAX,
} from './constants.ts';
import { decodeOr, RoutingError } from './errors.ts';
import { array, bytes, codec, enumOf, struct, uint, type Codec } from './wire/schema.ts';

export const PURPOSES = { FIND_NODE: 0, GET_BLOCK: 1, PUT_BLOCK: 2, STORE_BLOCK: 3, PEEK_BLOCK: 4 } as const;
export type Purpose = keyof typeof PURPOSES;
export const BLOCK_KINDS = { CHK: 0, SSK: 1 } as const;
export const REJECT_REASONS = { LOOP: 0, OVERLOAD: 1, HTL: 2, NO_ROUTE: 3, NOT_FOUND: 4 } as const;
export type RejectReason = keyof typeof REJECT_REASONS;

const id = bytes({ len: ROUTE_ID_LEN });
const key = bytes({ len: KEY_LEN });
const nonce = bytes({ len: NONCE_LEN });
const descriptor = bytes({ min: 1, max: DESCRIPTOR_MAX_LEN });
const payload = bytes({ max: ROUTE_PAYLOAD_MAX });
const block = bytes({ min: 1, max: BLOCK_MAX_LEN });
const hops = uint({ max: 255 });

const Route = codec(
  'ROUTE',
  struct(
    {
      id: [0, id],
      key: [1, key],
      htl: [2, uint({ min: 1, max: HTL_MAX })],
      purpose: [3, enumOf(PURPOSES)],
      payload: [4, payload],
      kind: [5, enumOf(BLOCK_KINDS)],
      block: [6, block],
      copies: [7, uint({ min: 1, max: BLOCK_COPIES_MAX })],
    },
    { optional: ['payload', 'kind', 'block', 'copies'] },
  ),
);
const RouteAccepted = codec('ROUTE_ACCEPTED', struct({ id: [0, id] }));
const RouteReply = codec(
  'ROUTE_REPLY',
  struct(
    { id: [0, id], hops: [1, hops], node: [2, descriptor], payload: [3, payload] },
    { optional: ['payload'] },
  ),
);
const RouteReject = codec('ROUTE_REJECT', struct({ id: [0, id], reason: [1, enumOf(REJECT_REASONS)] }));
const PexRequest = codec(
  'PEX_REQUEST',
  struct(
    { nonce: [0, nonce], target: [1, key], max: [2, uint({ min: 1, max: PEX_MAX })], self: [3, descriptor] },
    { optional: ['self'] },
  ),
);
const PexResponse = codec(
  'PEX_RESPONSE',
  struct({ nonce: [0, nonce], descriptors: [1, array(descriptor, { max: PEX_MAX })] }),
);
const BlockReply = codec('BLOCK_REPLY', struct({ id: [0, id], hops: [1, hops], block: [2, block] }));
const PutReply = codec('PUT_REPLY', struct({ id: [0, id], hops: [1, hops], stored: [2, uint({ max: 255 })] }));
const Have = codec('HAVE', struct({ nonce: [0, nonce], keys: [1, array(bytes({ len: 1 + KEY_LEN }), { min: 1, max: HAVE_MAX_KEYS })] }));
const HaveReply = codec('HAVE_REPLY', struct({ nonce: [0, nonce], missing: [1, array(uint({ max: HAVE_MAX_KEYS - 1 }), { max: HAVE_MAX_KEYS })] }));
const Ping = codec('PING', struct({ nonce: [0, nonce] }));
const Pong = codec('PONG', struct({ nonce: [0, nonce] }));

type Body<C> = C extends Codec<infer T> ? T : never;
export type RouteMsg = { type: 'ROUTE' } & Body<typeof Route>;
export type RouteAcceptedMsg = { type: 'ROUTE_ACCEPTED' } & Body<typeof RouteAccepted>;
export type RouteReplyMsg = { type: 'ROUTE_REPLY' } & Body<typeof RouteReply>;
export type RouteRejectMsg = { type: 'ROUTE_REJECT' } & Body<typeof RouteReject>;
export type PexRequestMsg = { type: 'PEX_REQUEST' } & Body<typeof PexRequest>;
export type PexResponseMsg = { type: 'PEX_RESPONSE' } & Body<typeof PexResponse>;
export type PingMsg = { type: 'PING' } & Body<typeof Ping>;
export type PongMsg = { type: 'PONG' } & Body<typeof Pong>;
export type BlockReplyMsg = { type: 'BLOCK_REPLY' } & Body<typeof BlockReply>;
export type PutReplyMsg = { type: 'PUT_REPLY' } & Body<typeof PutReply>;
export type HaveMsg = { type: 'HAVE' } & Body<typeof Have>;
export type HaveReplyMsg = { type: 'HAVE_REPLY' } & Body<typeof HaveReply>;
export type RoutingMessage =
  | RouteMsg
  | RouteAcceptedMsg
  | RouteReplyMsg
  | RouteRejectMsg
  | PexRequestMsg
  | PexResponseMsg
  | PingMsg
  | PongMsg
  | BlockReplyMsg
  | PutReplyMsg
  | HaveMsg
  | HaveReplyMsg;
export type MessageType = RoutingMessage['type'];

export const MESSAGE_TYPES: Record<MessageType, number> = {
  ROUTE: 0x01,
  ROUTE_ACCEPTED: 0x02,
  ROUTE_REPLY: 0x03,
  ROUTE_REJECT: 0x04,
  PEX_REQUEST: 0x05,
  PEX_RESPONSE: 0x06,
  PING: 0x07,
  PONG: 0x08,
  BLOCK_REPLY: 0x09,
  PUT_REPLY: 0x0a,
  HAVE: 0x0b,
  HAVE_REPLY: 0x0c,
};

const VIEWS = { views: true } as const;

// Indexed by type byte; the body codec of each type.
const CODECS: (readonly [MessageType, Codec<any>] | undefined)[] = [];
for (const [name, c] of [
  ['ROUTE', Route],
  ['ROUTE_ACCEPTED', RouteAccepted],
  ['ROUTE_REPLY', RouteReply],
  ['ROUTE_REJECT', RouteReject],
  ['PEX_REQUEST', PexRequest],
  ['PEX_RESPONSE', PexResponse],
  ['PING', Ping],
  ['PONG', Pong],
  ['BLOCK_REPLY', BlockReply],
  ['PUT_REPLY', PutReply],
  ['HAVE', Have],
  ['HAVE_REPLY', HaveReply],
] as const) {
  CODECS[MESSAGE_TYPES[name]] = [name, c];
}

/** The body codec of a message type (tests compare its paths: routing/wire/flat.ts). */
export function bodyCodec(type: MessageType): Codec<unknown> {
  return (CODECS[MESSAGE_TYPES[type]] as readonly [MessageType, Codec<unknown>])[1];
}

/** The type of a message from its first byte, or undefined (a cheap check before parsing). */
export function peekType(bytes: Uint8Array): MessageType | undefined {
  return bytes.length > 1 ? CODECS[bytes[0]]?.[0] : undefined;
}

/** Encodes a routing message; throws WireError if a field is out of bounds (our own bug). */
export function encodeMessage(m: RoutingMessage): Uint8Array {
  const entry = CODECS[MESSAGE_TYPES[m.type]];
  if (entry === undefined) throw new TypeError(`encodeMessage: unknown type ${String((m as { type: unknown }).type)}`);
  const shape = shapeError(m);
  if (shape !== undefined) throw new TypeError(`encodeMessage: ${shape}`);
  const { type: _type, ...body } = m;
  return entry[1].encode(body, MESSAGE_TYPES[m.type]); // the type byte and the body in one buffer
}

/**
 * Decodes one routing message strictly; throws RoutingError BAD_MESSAGE on any defect. The caller
 * hands `bytes` over: the message's byte fields (a block among them) are views into it, not
 * copies, so it must not be changed or reused afterwards.
 */
export function decodeMessage(bytes: Uint8Array): RoutingMessage {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeMessage expects a Uint8Array');
  const entry = bytes.length > 1 ? CODECS[bytes[0]] : undefined;
  if (entry === undefined) {
    throw new RoutingError('BAD_MESSAGE', bytes.length <= 1 ? 'message: too short' : `message: unknown type 0x${bytes[0].toString(16)}`);
  }
  const [type, c] = entry;
  const body = decodeOr('BAD_MESSAGE', type, () => c.decode(bytes.subarray(1), VIEWS));
  const m = { type, ...body } as RoutingMessage;
  const err = shapeError(m);
  if (err !== undefined) throw new RoutingError('BAD_MESSAGE', `${m.type}: ${err}`);
  return m;
}

/** Rules across fields that the struct schemas cannot say. */
function shapeError(m: RoutingMessage): string | undefined {
  if (m.type === 'ROUTE') return routeShapeError(m);
  if (m.type === 'HAVE') {
    for (const k of m.keys) if (k[0] > 1) return 'unknown block kind';
  }
  if (m.type === 'HAVE_REPLY') {
    for (let i = 1; i < m.missing.length; i++) if (m.missing[i] <= m.missing[i - 1]) return 'missing indices must ascend';
  }
  return undefined;
}

/** Which ROUTE fields each purpose takes: FIND_NODE no kind and no block, GET_BLOCK and PEEK_BLOCK a kind,
 *  PUT_BLOCK and STORE_BLOCK a kind and a block (and no opaque payload for block purposes). */
function routeShapeError(m: RouteMsg): string | undefined {
  const hasKind = m.kind !== undefined, hasBlock = m.block !== undefined;
  if (m.copies !== undefined && m.purpose !== 'PUT_BLOCK') return 'only PUT_BLOCK carries copies';
  switch (m.purpose) {
    case 'FIND_NODE':
      return hasKind || hasBlock ? 'FIND_NODE carries no kind or block' : undefined;
    case 'GET_BLOCK':
    case 'PEEK_BLOCK':
      return !hasKind || hasBlock || m.payload !== undefined ? `${m.purpose} carries a kind only` : undefined;
    case 'PUT_BLOCK':
    case 'STORE_BLOCK':
      return !hasKind || !hasBlock || m.payload !== undefined ? `${m.purpose} carries a kind and a block` : undefined;
  }
}
