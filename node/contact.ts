// Contact strings: how a user hands one node's address to another (a --bootstrap value, the
// `DIR/contact` file). Printable and copy-paste safe: lowercase RFC 4648 base32 (no padding, no
// characters that shells, URLs or line-wrapping mangle) of the Ed25519 identity key followed by a
// 4-byte checksum, so a mistyped contact is caught before any network traffic:
//
//   umbra:<base32(identityKey(32) ‖ sha256("umbra/contact/v1\0" ‖ identityKey)[0..4])>@HOST:PORT
//
// IPv6 hosts are written in brackets ([::1]:7700). The dialer derives the peer's Noise static key
// from the identity key (crypto/link-key.ts), so the contact alone authenticates the link.

import { nodeBackend } from '../crypto/backend-node.ts';
import { equalBytes, utf8 } from '../crypto/bytes.ts';

export interface Contact {
  identityKey: Uint8Array;
  host: string;
  port: number;
}

export class ContactError extends Error {
  readonly code = 'BAD_CONTACT';
  constructor(message: string) {
    super(message);
    this.name = 'ContactError';
  }
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const CHECKSUM_LABEL = utf8('umbra/contact/v1\0');
const PAYLOAD_LEN = 36;
const B32_LEN = Math.ceil((PAYLOAD_LEN * 8) / 5); // 58

export function base32Encode(b: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

/** Strict decode: lowercase alphabet only, canonical (unused trailing bits must be zero). */
export function base32Decode(s: string): Uint8Array | null {
  const out = new Uint8Array(Math.floor((s.length * 5) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const ch of s) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return null;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out[o++] = (acc >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0 || bits >= 5) return null;
  return out;
}

function checksum(identityKey: Uint8Array): Uint8Array {
  return nodeBackend.sha256(CHECKSUM_LABEL, identityKey).subarray(0, 4);
}

export function formatContact(c: Contact): string {
  const payload = new Uint8Array(PAYLOAD_LEN);
  payload.set(c.identityKey, 0);
  payload.set(checksum(c.identityKey), 32);
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  return `umbra:${base32Encode(payload)}@${host}:${c.port}`;
}

export function parseContact(text: string): Contact {
  const s = text.trim();
  if (s.length > 400) throw new ContactError('contact string too long');
  const m = /^umbra:([a-z2-7]+)@(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(s);
  if (!m) throw new ContactError("not a contact string (expected 'umbra:<key>@HOST:PORT')");
  const [, b32, v6, host4, portText] = m as unknown as [string, string, string | undefined, string | undefined, string];
  if (b32.length !== B32_LEN) throw new ContactError('contact key has the wrong length (truncated or mistyped?)');
  const payload = base32Decode(b32);
  if (!payload || payload.length !== PAYLOAD_LEN) throw new ContactError('contact key is not valid base32');
  const identityKey = payload.slice(0, 32);
  if (!equalBytes(checksum(identityKey), payload.subarray(32))) {
    throw new ContactError('contact key checksum does not match (mistyped?)');
  }
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new ContactError(`contact port ${portText} out of range`);
  return { identityKey, host: (v6 ?? host4) as string, port };
}
