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
export const NOISE_DHLEN = 32;
/** Largest transport plaintext: a whole message, less the AEAD tag. */
export const NOISE_MAX_PLAINTEXT = NOISE_MAX_MESSAGE - AEAD_TAG_LEN;

// --- ntor v3 (Tor proposal 332) ---
export const NTOR3_PROTOID = 'ntor3-curve25519-sha3_256-1';
export const NTOR3_ID_LEN = 32; // relay identity (an Ed25519 public key)
export const NTOR3_MAC_LEN = 32; // MSG_MAC and AUTH (SHA3-256)
export const NTOR3_ENC_KEY_LEN = 32; // AES-256-CTR, zero IV
export const NTOR3_CLIENT_OVERHEAD = 128; // ID ‖ B ‖ X ‖ … ‖ MSG_MAC, around ENC(CM)
export const NTOR3_SERVER_OVERHEAD = 64; // Y ‖ AUTH, before ENC(SM)
export const NTOR3_CIRC_VERIFICATION = 'circuit extend'; // Tor's VER for CREATE2/EXTEND2

// --- CGO relay crypto (Tor proposal 359) and Tor cells (tor-spec §3) ---
export const RELAY_BODY_LEN = 509; // T (16) ‖ C (493)
export const CGO_TAG_LEN = 16;
export const CGO_C_LEN = RELAY_BODY_LEN - CGO_TAG_LEN; // 493
export const CGO_BLOCK_LEN = 16; // AES-128 block, POLYVAL block, tags T/T', nonce N
export const CGO_AES_KEY_LEN = 16; // all CGO keys here are AES-128 (as the arti vectors)
export const CGO_HASH_KEY_LEN = 16; // POLYVAL keys KU and B
export const CGO_ET_KEY_LEN = CGO_AES_KEY_LEN + CGO_HASH_KEY_LEN; // J = KB ‖ KU
export const CGO_PRF_KEY_LEN = CGO_AES_KEY_LEN + CGO_HASH_KEY_LEN; // S = K ‖ B
export const CGO_UIV_KEY_LEN = CGO_ET_KEY_LEN + CGO_PRF_KEY_LEN; // K = J ‖ S (64)
export const CGO_SEED_LEN = CGO_UIV_KEY_LEN + CGO_BLOCK_LEN; // one direction's state seed K ‖ N (80)
export const CGO_BINDING_LEN = 20; // circuit binding after the two seeds (arti CIRC_BINDING_LEN)
export const CGO_KEY_MATERIAL_LEN = 2 * CGO_SEED_LEN + CGO_BINDING_LEN; // forward ‖ backward ‖ binding
export const CGO_ET_TWEAK_LEN = CGO_BLOCK_LEN + 1 + CGO_C_LEN; // T' ‖ AD ‖ X_R (510)
export const CGO_PRF_N0_LEN = CGO_C_LEN; // PRF output with t = 0 (the body keystream)
export const CGO_PRF_N1_LEN = CGO_SEED_LEN; // PRF output with t = 1 (J' ‖ S' ‖ N')
export const CGO_PRF_N1_OFFSET_BLOCKS = 31; // t = 1 starts 31 counter blocks in
export const CGO_AD_RELAY = 3; // AD is the channel command: RELAY (tor-spec §3)
export const CGO_AD_RELAY_EARLY = 9; // or RELAY_EARLY

// --- Content keys (CHK and SSK, after Hyphanet's freenet.keys) ---
// Labels are hashed as UTF-8 followed by one 0x00 byte, so no label is a prefix of another.
export const CHK_BLOCK_LEN = 32 * 1024; // plaintext is padded to exactly this
export const CHK_HEADER_LEN = 16; // encrypted: u16be true length ‖ 14 zero bytes
export const CHK_ENCODED_LEN = CHK_HEADER_LEN + CHK_BLOCK_LEN; // header ‖ ciphertext, as stored
export const CHK_KEY_LEN = 32; // crypto key and routing key (SHA-256)
export const CHK_CRYPTO_KEY_LABEL = 'umbra/chk/crypto-key/v1';
export const CHK_ROUTING_KEY_LABEL = 'umbra/chk/routing-key/v1';
export const SSK_MAX_PAYLOAD = 1024; // payload is padded to exactly this
export const SSK_BODY_LEN = 2 + SSK_MAX_PAYLOAD; // encrypted: u16be length ‖ padded payload
export const SSK_SIV_LEN = 16; // synthetic IV: AES-CTR IV and MAC of the body
export const SSK_KEY_LEN = 32; // crypto key, public key hash, doc tag, routing key
export const SSK_SIGNED_LEN = 32 + 32 + 8 + SSK_SIV_LEN + SSK_BODY_LEN; // pubkey ‖ docTag ‖ version ‖ siv ‖ body
export const SSK_BLOCK_LEN = SSK_SIGNED_LEN + 64; // … ‖ Ed25519 signature = 1178
export const SSK_PUBKEY_HASH_LABEL = 'umbra/ssk/pubkey-hash/v1';
export const SSK_DOCNAME_LABEL = 'umbra/ssk/docname/v1';
export const SSK_DOCTAG_LABEL = 'umbra/ssk/doc-tag/v1';
export const SSK_ENC_KEY_LABEL = 'umbra/ssk/enc-key/v1';
export const SSK_SIV_KEY_LABEL = 'umbra/ssk/siv-key/v1';
export const SSK_ROUTING_KEY_LABEL = 'umbra/ssk/routing-key/v1';
export const SSK_SIGNATURE_LABEL = 'umbra/ssk/signature/v1';

// --- Node identity and key files (identity.ts) ---
export const NODE_ID_LEN = 32; // SHA-256 of the labelled Ed25519 public key; the node's location
export const NODE_ID_LABEL = 'umbra/node-id/v1';
export const KEYFILE_MAGIC = 'UMBRAKEY'; // 8 ASCII bytes
export const KEYFILE_VERSION = 1;
export const KEYFILE_KIND_NODE_IDENTITY = 1;
export const KEYFILE_CHECKSUM_LABEL = 'umbra/keyfile/checksum/v1';
export const KEYFILE_HEADER_LEN = 8 + 1 + 1; // magic ‖ version ‖ kind
export const KEYFILE_NODE_IDENTITY_LEN = KEYFILE_HEADER_LEN + 4 * 32 + 32; // … ‖ 4 keys ‖ checksum = 170
