// Spec constants of the crypto layer, in one place (sizes in bytes unless named otherwise).
// Each section names its source. Modules import from here rather than repeating numbers.

// --- Primitives (RFC 7748, RFC 8032, RFC 8439) ---
export const X25519_KEY_LEN = 32;
export const ED25519_SEED_LEN = 32;
export const ED25519_PUBLIC_LEN = 32;
export const ED25519_SIG_LEN = 64;
export const AEAD_TAG_LEN = 16;

// --- Noise (Noise Protocol Framework rev 34: §4 DHLEN/HASHLEN, §3 max message, §11.3 rekey) ---
export const NOISE_PROTOCOL_NAME = 'Noise_XK_25519_ChaChaPoly_SHA256';
export const NOISE_MAX_MESSAGE = 65535;
export const NOISE_HASHLEN = 32;

// --- ntor v3 (Tor proposal 332) ---
export const NTOR3_PROTOID = 'ntor3-curve25519-sha3_256-1';

// --- CGO relay crypto (Tor proposal 359) and Tor cells (tor-spec §3) ---
export const RELAY_BODY_LEN = 509; // T (16) ‖ C (493)
export const CGO_TAG_LEN = 16;
export const CGO_C_LEN = RELAY_BODY_LEN - CGO_TAG_LEN; // 493

// --- Content keys (CHK and SSK, after Hyphanet's freenet.keys) ---
export const CHK_BLOCK_LEN = 32 * 1024;
