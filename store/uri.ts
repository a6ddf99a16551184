// Content URIs: how a user names content. Printable and copy-paste safe (lowercase base32, no
// characters shells, URLs or line wrapping mangle), with a 4-byte checksum over everything the URI
// names, so a mistyped or truncated URI is refused here, before any network traffic:
//
//   umbra:CHK@<base32(version(1) ‖ routingKey(32) ‖ cryptoKey(32) ‖ checksum(4))>
//   umbra:SSK@<base32(pubKeyHash(32) ‖ cryptoKey(32) ‖ checksum(4))>/<docName>
//   umbra:SSK-INSERT@<base32(seed(32) ‖ cryptoKey(32) ‖ checksum(4))>/<docName>   (keep secret)
//
//   checksum = SHA-256(URI_CHECKSUM_LABEL ‖ 0x00 ‖ kind ‖ 0x00 ‖ key material ‖ docName)[0..4]
//
// A CHK URI names the root manifest block of some content (store/manifest.ts). The kind is in the
// checksum, so key material pasted under the wrong kind is refused too; the document name is in it,
// so a truncated name is caught like a truncated key. Document names are 1-128 characters of
// [A-Za-z0-9._~-] (URL-unreserved: safe in a path, a shell and a file name).
import { nodeBackend } from '../crypto/backend-node.ts';
import { concat, equalBytes, utf8 } from '../crypto/bytes.ts';
import { base32Decode, base32Encode, base32Length } from './base32.ts';
import { DOCNAME_MAX, KEY_LEN, URI_CHECKSUM_LABEL, URI_CHECKSUM_LEN, URI_CHK_VERSION, URI_MAX_LEN, URI_PREFIX } from './constants.ts';
import { StoreError } from './errors.ts';

export interface ChkUri {
  kind: 'CHK';
  routingKey: Uint8Array;
  cryptoKey: Uint8Array;
}
export interface SskUri {
  kind: 'SSK';
  pubKeyHash: Uint8Array;
  cryptoKey: Uint8Array;
  docName: string;
}
export interface SskInsertUri {
  kind: 'SSK-INSERT';
  seed: Uint8Array;
  cryptoKey: Uint8Array;
  docName: string;
}
export type ContentUri = ChkUri | SskUri | SskInsertUri;
type Kind = ContentUri['kind'];

const LABEL = utf8(URI_CHECKSUM_LABEL + '\0');
const DOCNAME_RE = /^[A-Za-z0-9._~-]+$/;
const CHK_MATERIAL = 1 + 2 * KEY_LEN;
const SSK_MATERIAL = 2 * KEY_LEN;

function bad(message: string): StoreError {
  return new StoreError('BAD_URI', message);
}

function checksum(kind: Kind, material: Uint8Array, docName: string): Uint8Array {
  return nodeBackend.sha256(LABEL, utf8(kind + '\0'), material, utf8(docName)).subarray(0, URI_CHECKSUM_LEN);
}

function keyText(kind: Kind, material: Uint8Array, docName: string): string {
  return base32Encode(concat(material, checksum(kind, material, docName)));
}

function checkKey(name: string, k: Uint8Array): void {
  if (!(k instanceof Uint8Array) || k.length !== KEY_LEN) throw new RangeError(`uri: ${name} must be ${KEY_LEN} bytes`);
}

/** Why a document name cannot be used, or null if it can. */
export function docNameProblem(docName: string): string | null {
  if (typeof docName !== 'string' || docName.length === 0) return 'document name is empty';
  if (docName.length > DOCNAME_MAX) return `document name is longer than ${DOCNAME_MAX} characters`;
  if (!DOCNAME_RE.test(docName)) return 'document name may hold only letters, digits and . _ ~ -';
  return null;
}

export function formatUri(uri: ContentUri): string {
  if (uri.kind === 'CHK') {
    checkKey('routing key', uri.routingKey);
    checkKey('crypto key', uri.cryptoKey);
    const material = concat(Uint8Array.of(URI_CHK_VERSION), uri.routingKey, uri.cryptoKey);
    return `${URI_PREFIX}CHK@${keyText('CHK', material, '')}`;
  }
  const first = uri.kind === 'SSK' ? uri.pubKeyHash : uri.seed;
  checkKey(uri.kind === 'SSK' ? 'public key hash' : 'seed', first);
  checkKey('crypto key', uri.cryptoKey);
  const problem = docNameProblem(uri.docName);
  if (problem !== null) throw new RangeError(`uri: ${problem}`);
  return `${URI_PREFIX}${uri.kind}@${keyText(uri.kind, concat(first, uri.cryptoKey), uri.docName)}/${uri.docName}`;
}

/** Parses any content URI; StoreError BAD_URI saying what is wrong, UNSUPPORTED for a newer CHK version. */
export function parseUri(text: string): ContentUri {
  if (typeof text !== 'string') throw bad('URI must be text');
  if (text.length > URI_MAX_LEN) throw bad(`URI is longer than ${URI_MAX_LEN} characters`);
  const s = text.trim();
  if (!s.startsWith(URI_PREFIX)) throw bad(`not an Umbra URI (expected '${URI_PREFIX}CHK@…' or '${URI_PREFIX}SSK@…/name')`);
  const at = s.indexOf('@');
  if (at < 0) throw bad("URI has no '@' after its kind");
  const kind = s.slice(URI_PREFIX.length, at);
  if (kind !== 'CHK' && kind !== 'SSK' && kind !== 'SSK-INSERT') throw bad(`unknown URI kind '${kind.slice(0, 20)}' (expected CHK, SSK or SSK-INSERT)`);
  const rest = s.slice(at + 1);
  const slash = rest.indexOf('/');
  const key = slash < 0 ? rest : rest.slice(0, slash);
  const docName = slash < 0 ? '' : rest.slice(slash + 1);
  if (kind === 'CHK' && slash >= 0) throw bad('a CHK URI has no document name');
  if (kind !== 'CHK') {
    if (slash < 0) throw bad(`an ${kind} URI needs '/<document name>' after its key (truncated?)`);
    const problem = docNameProblem(docName);
    if (problem !== null) throw bad(problem);
  }
  const materialLen = kind === 'CHK' ? CHK_MATERIAL : SSK_MATERIAL;
  const expect = base32Length(materialLen + URI_CHECKSUM_LEN);
  if (key.length !== expect) {
    throw bad(`${kind} key has ${key.length} characters, expected ${expect} (truncated or mistyped?)`);
  }
  const raw = base32Decode(key);
  if (raw === null) throw bad(`${kind} key holds a character outside lowercase base32 (a-z, 2-7), or a mistyped last character`);
  const material = raw.subarray(0, materialLen);
  if (!equalBytes(checksum(kind, material, docName), raw.subarray(materialLen))) {
    throw bad(`${kind} URI checksum does not match (mistyped or truncated?)`);
  }
  if (kind === 'CHK') {
    if (material[0] !== URI_CHK_VERSION) throw new StoreError('UNSUPPORTED', `CHK URI version ${material[0]} is not supported`);
    return { kind, routingKey: material.slice(1, 1 + KEY_LEN), cryptoKey: material.slice(1 + KEY_LEN) };
  }
  const a = material.slice(0, KEY_LEN), cryptoKey = material.slice(KEY_LEN);
  return kind === 'SSK' ? { kind, pubKeyHash: a, cryptoKey, docName } : { kind, seed: a, cryptoKey, docName };
}

/** parseUri, insisting on a CHK URI. */
export function parseChkUri(text: string): ChkUri {
  const u = parseUri(text);
  if (u.kind !== 'CHK') throw bad(`expected a CHK URI, got ${u.kind}`);
  return u;
}
