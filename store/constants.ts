// Constants of the store layer (DESIGN.md "Store"): block and segment sizes, erasure parameters,
// manifest and metadata bounds, URI lengths. One place, as STYLE.md habit 13 asks.
import { CHK_BLOCK_LEN, CHK_KEY_LEN, SSK_KEY_LEN, SSK_MAX_PAYLOAD } from '../crypto/constants.ts';

// --- Content blocks ---
export const BLOCK_LEN = CHK_BLOCK_LEN; // plaintext bytes per CHK data block (32 KiB)
export const KEY_LEN = CHK_KEY_LEN; // routing key and crypto key, each
export const BLOCK_REF_LEN = 2 * CHK_KEY_LEN; // routingKey ‖ cryptoKey: how a manifest names a block

// --- Erasure coding (store/erasure.ts): systematic Reed-Solomon over GF(2^8), Cauchy generator ---
// A full segment is SEGMENT_DATA data blocks plus SEGMENT_CHECK check blocks: any 32 of the 40
// recover the segment, so losing up to a fifth of the blocks (8 of 40) loses nothing, for 25% more
// blocks stored. Why these numbers: the encoder costs SEGMENT_CHECK GF(256) multiply-adds per data
// byte. The choice was made with the pure-JS kernel (~1.1-1.35 GB/s per multiply-add here: 32+8 at
// ~115-165 MB/s, 32+16 at ~85 MB/s, too close to the 40 MiB/s end-to-end budget beside CHK
// encryption on two shared cores); the WebAssembly SIMD kernel (store/gf256-simd.ts) now encodes
// 32+8 at ~2.6 GB/s and 32+16 at ~1.4 GB/s, so more check blocks would no longer cost speed, only
// 25 % more storage and traffic per 8 check blocks. A long
// segment makes random loss average out: at 5% independent loss a 32+8 segment fails with odds
// ~1e-4, a 16+4 one ~2e-3. Memory: one segment is 1.25 MiB. Both are per insert options (the
// manifest carries them), so durable content can ask for more check blocks.
export const SEGMENT_DATA = 32;
export const SEGMENT_CHECK = 8;
// Copies asked for each manifest block (routing's PUT_BLOCK `copies`; data and check blocks get
// the network's default, 3). A lost manifest block loses every segment under it, where a lost data
// block is one of 40 the erasure code can do without. With 30 % of the nodes failing at once, all
// copies of a block are gone with odds 0.3^3 ≈ 2.7 % at 3 copies, 0.3^6 ≈ 0.07 % at 6 (caches on
// the insert path lower both). Manifest blocks are few (about one per 500 blocks), so this is cheap.
export const MANIFEST_BLOCK_COPIES = 6;
export const GF_MAX_BLOCKS = 256; // data + check blocks of one segment must be distinct field elements

// --- Content and manifests (store/manifest.ts) ---
export const MAX_CONTENT_SIZE = 2 ** 40; // 1 TiB: far above any test, far below 2^53
export const MANIFEST_VERSION = 1;
export const MANIFEST_MAX_BYTES = CHK_BLOCK_LEN; // a manifest node is one CHK block
export const MANIFEST_MIN_BYTES = 1024; // the smallest node limit a test may inject
export const MANIFEST_MAX_DEPTH = 8; // levels of index nodes above the leaves
export const FILE_NAME_MAX = 255; // bytes of UTF-8
export const CONTENT_TYPE_MAX = 127; // bytes (ASCII)

// --- Pipelines (store/split.ts, store/join.ts) ---
export const DEFAULT_WINDOW = 16; // putBlock/getBlock calls in flight
export const MAX_WINDOW = 256;

// --- URIs (store/uri.ts) ---
export const URI_PREFIX = 'umbra:';
export const URI_CHECKSUM_LEN = 4; // bytes of a labelled SHA-256 after the key material
export const URI_CHECKSUM_LABEL = 'umbra/uri/checksum/v1';
export const URI_CHK_VERSION = 1; // first byte of a CHK URI's key material
export const URI_MAX_LEN = 512; // a longer string is refused before any decoding
export const DOCNAME_MAX = 128; // SSK document name, characters of [A-Za-z0-9._~-]
export const SSK_URI_KEY_LEN = SSK_KEY_LEN;

// --- SSK content (store/ssk-content.ts) ---
export const SSK_CONTENT_MAX = SSK_MAX_PAYLOAD; // bytes of payload per SSK version
