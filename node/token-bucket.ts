// A token bucket (rate limiter) driven by an injected clock: `rate` tokens per second, at most
// `burst` saved up. Used per peer on received cells and per address on new connections.

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes n tokens if available; false means the caller is over its allowance. */
  take(n: number, now: number): boolean {
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate);
    this.last = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

/** Exponential backoff with full jitter: attempt 0 → [0, base), doubling up to max. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random01: number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(cap / 2 + (random01 * cap) / 2);
}
