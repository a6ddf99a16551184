// Constants of the routing layer (routing/), in one place (sizes in bytes unless named otherwise).
// One section per module group; modules import from here rather than repeating numbers.
// STYLE.md habit 13.

import { CHK_ENCODED_LEN, SSK_BLOCK_LEN } from '../crypto/constants.ts';

// --- Wire codec (routing/wire; DESIGN.md "Wire and code rules") ---
// Largest encoded message any decoder accepts, checked before a byte is parsed. It must hold the
// largest message we send: an INSERT carries one stored CHK block (32 KiB + 16-byte header, see
// crypto/constants.ts) plus a few hundred bytes of fields, so 64 KiB leaves room without letting a
// peer make us parse megabytes.
export const WIRE_MAX_MESSAGE = 64 * 1024;
// Deepest nesting of arrays/maps accepted (a top-level map is depth 1). Our messages need 3 or 4;
// the bound keeps every recursive walk (ours and cbor-x's) far from the stack limit.
export const WIRE_MAX_DEPTH = 16;
// Hard ceiling on a caller-chosen depth limit: cbor-x decodes recursively, so no option may ask for
// more than this (a RangeError, as API misuse).
export const WIRE_DEPTH_CEILING = 256;
// Struct field labels (CBOR map keys) are unsigned integers up to this; 0-23 encode in one byte.
export const WIRE_MAX_FIELD_KEY = 0xffff;

// --- Routing (routing/: keyspace, descriptor, table, messages, router, membership) ---
// Key space: 256-bit locations (node ids, routing keys). Kademlia (Maymounkov and Mazieres 2002).
export const KEY_LEN = 32;
// Routing table: K entries per bucket (bucket i = peers sharing exactly i leading bits with us),
// and a short list of replacements per bucket, promoted when an entry is evicted (Kademlia §2.2).
export const ROUTING_K = 16;
export const ROUTING_REPLACEMENTS = 4;
// Membership lookups (iterative peer exchange): parallel queries in flight (Kademlia's alpha).
export const ROUTING_ALPHA = 3;
// Most descriptors in one PEX response; a peer can never hand us more per answer.
export const PEX_MAX = 16;
// Hops-to-live: a route request carries 1..HTL_MAX; the originator starts at a random value in
// [HTL_MAX - HTL_START_SPREAD, HTL_MAX], and a hop at HTL_MAX decrements only for the peers its
// per-node secret picks (Freenet's decrementAtMax), so no value marks the originator.
export const HTL_MAX = 16;
export const HTL_START_SPREAD = 3;
// Request ids: random, ROUTE_ID_LEN bytes; PEX and PING nonces: NONCE_LEN bytes.
export const ROUTE_ID_LEN = 16;
export const NONCE_LEN = 8;
// Largest opaque payload a route request or reply carries (the content layer's GET/PUT bodies).
export const ROUTE_PAYLOAD_MAX = 48 * 1024;
// Node descriptors: the routing protocol version we speak, the accepted range, addresses per
// descriptor and their length ("host:port", a DNS name is at most 253 bytes), the largest encoding.
export const ROUTING_PROTOCOL_VERSION = 1;
export const ROUTING_MIN_VERSION = 1;
export const ROUTING_MAX_VERSION = 1;
export const DESCRIPTOR_MAX_ADDRESSES = 4;
export const DESCRIPTOR_ADDRESS_MAX_LEN = 261;
export const DESCRIPTOR_MAX_LEN = 1280;
// Signature domain separation: sig = Ed25519(identity, DESCRIPTOR_SIG_LABEL ‖ 0x00 ‖ body).
export const DESCRIPTOR_SIG_LABEL = 'umbra/node-descriptor/v1';
// A descriptor older than this is stale; one dated more than the skew ahead of our clock is refused.
export const DESCRIPTOR_MAX_AGE_MS = 24 * 3600_000;
export const DESCRIPTOR_MAX_SKEW_MS = 10 * 60_000;
// Consecutive failures (timeouts) after which a peer is evicted from the table.
export const ROUTING_MAX_FAILURES = 3;
// Blocks that failed verification after which a peer is evicted and refused re-entry (unlike
// timeouts, not forgiven when the peer is heard from again); how many such peers a table remembers.
export const ROUTING_MAX_BAD_BLOCKS = 2;
export const ROUTING_BANNED_MAX = 1024;

// --- Blocks over the overlay (routing/block-requests.ts GET_BLOCK / PUT_BLOCK) ---
// Largest block a ROUTE or BLOCK_REPLY carries: a stored CHK block (the larger kind).
export const BLOCK_MAX_LEN = Math.max(CHK_ENCODED_LEN, SSK_BLOCK_LEN);
// Copies an insert aims for: the node closest to the key stores it and sends replicas to its
// BLOCK_REPLICAS - 1 peers closest to the key.
export const BLOCK_REPLICAS = 3;
// An insert may ask for more copies than that (a PUT_BLOCK's `copies`, e.g. manifest blocks, whose
// loss would lose a whole file: store/constants.ts MANIFEST_BLOCK_COPIES); the end node honours at
// most this many, so one request cannot make it send more.
export const BLOCK_COPIES_MAX = 8;
// Repair (routing/repair.ts): keys one HAVE query asks about (each is a kind byte and a 32-byte
// routing key, so a HAVE stays near 2 KiB).
export const HAVE_MAX_KEYS = 64;
// Block fetches one originator keeps in flight at once (routing/fetch-window.ts).
export const DEFAULT_FETCH_WINDOW = 32;

// Default policy (node/ passes its own RoutingPolicy; these are the values when it does not).
export const DEFAULT_ACK_TIMEOUT_MS = 2_000; // wait for ACCEPTED (or an answer) after forwarding
export const DEFAULT_REPLY_TIMEOUT_MS = 20_000; // wait for the reply once the next hop accepted
export const DEFAULT_LOOKUP_TIMEOUT_MS = 60_000; // an originator gives up on its own lookup
export const DEFAULT_MAX_ATTEMPTS = 10; // next hops one node tries for one request (backtracking)
export const DEFAULT_MAX_REQUESTS = 4096; // request states one node holds at once
export const DEFAULT_MAX_REQUESTS_PER_PEER = 256; // of which from one predecessor
export const DEFAULT_PEX_TIMEOUT_MS = 3_000;
export const DEFAULT_PING_TIMEOUT_MS = 3_000;
export const DEFAULT_REFRESH_INTERVAL_MS = 15 * 60_000; // a non-full bucket untouched this long is refreshed
export const DEFAULT_SELF_LOOKUP_INTERVAL_MS = 30 * 60_000; // the self-lookup is redone this often
export const DEFAULT_MAINTENANCE_INTERVAL_MS = 60_000; // how often tick() runs the membership chores
export const DEFAULT_SILENT_PING_MS = 30 * 60_000; // ping a peer silent this long (a few per chore)
export const DEFAULT_PEX_SERVE_PER_SEC = 50; // PEX requests answered per second (token bucket)
export const DEFAULT_REPAIR_INTERVAL_MS = 10 * 60_000; // each node walks the blocks it holds this often (±10 % jitter)
export const DEFAULT_REPAIR_KEYS_PER_STEP = 256; // keys one repair step looks at; the walk goes on a step later
export const DEFAULT_REPAIR_STEP_MS = 1_000; // time between two steps of one walk
export const DEFAULT_REPAIR_MAX_QUERIES = 64; // HAVE queries of ours awaiting an answer at once
export const DEFAULT_REPAIR_MAX_KEYS = 65_536; // 'store'-role keys the repair index remembers (oldest forgotten)
export const DEFAULT_REPAIR_CACHE_KEYS = 1_024; // 'cache'-role keys it remembers (most recently cached)
// HAVE keys answered per second for one peer (token bucket, burst of twice this; a HAVE over it is
// dropped unanswered). An honest walk asks one peer about at most DEFAULT_REPAIR_KEYS_PER_STEP keys a
// second; answering costs a lookup per key, and a read and a rewrite per cached block it promotes.
export const DEFAULT_HAVE_KEYS_PER_SEC = 1_024;
// Peers whose HAVE allowance is tracked at once (the least recently heard from is forgotten first).
export const HAVE_TRACKED_PEERS = 1_024;
