// Deterministic CHK and SSK blocks for the datastore tests and the crash child: block i is the same
// in every process, so the test can recompute exactly what a killed writer put.
import { u64be } from '../../crypto/bytes.ts';
import { chkEncode } from '../../crypto/chk.ts';
import { sskEncode } from '../../crypto/ssk.ts';

export function chkBlock(seed: number, i: number): { routingKey: Uint8Array; block: Uint8Array } {
  const plain = new Uint8Array(64 + (i % 997));
  plain.set(u64be(seed), 0);
  plain.set(u64be(i), 8);
  return chkEncode(plain);
}

export const SSK_SEED = new Uint8Array(32).fill(0x5a);
export const SSK_CRYPTO_KEY = new Uint8Array(32).fill(0xa5);

/** Version `version` of document `doc`; every version of a document has the same routing key. */
export function sskBlock(doc: number, version: number): { routingKey: Uint8Array; block: Uint8Array } {
  return sskEncode({ seed: SSK_SEED, cryptoKey: SSK_CRYPTO_KEY, docName: `doc-${doc}`, version, payload: u64be(version) });
}
