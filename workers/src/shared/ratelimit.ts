// Fixed-window request counters in KV, per client.
//
// KV is eventually consistent and takes about one write per second per key, so under a
// burst the count can lag and let a few extra requests through: this is abuse protection
// for the catalog's RATE_LIMITS namespace, not exact metering.
import { HttpError } from "./respond";

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
}

// KV refuses expirations shorter than 60 seconds.
const MIN_KV_TTL_SECONDS = 60;

export class FixedWindowRateLimiter {
  constructor(
    private readonly kv: KVNamespace,
    private readonly scope: string,
    private readonly limit: number,
    private readonly windowSeconds: number,
  ) {}

  private window(client: string, nowMs: number): { key: string; resetSeconds: number } {
    const window = Math.floor(nowMs / 1000 / this.windowSeconds);
    return {
      key: `rl:${this.scope}:${client}:${window}`,
      resetSeconds: Math.max(1, Math.ceil((window + 1) * this.windowSeconds - nowMs / 1000)),
    };
  }

  async hit(client: string, nowMs: number): Promise<RateLimitDecision> {
    const { key, resetSeconds } = this.window(client, nowMs);
    const count = Number((await this.kv.get(key)) ?? "0") + 1;
    if (count > this.limit) {
      return { allowed: false, limit: this.limit, remaining: 0, resetSeconds };
    }
    await this.kv.put(key, String(count), { expirationTtl: Math.max(MIN_KV_TTL_SECONDS, 2 * this.windowSeconds) });
    return { allowed: true, limit: this.limit, remaining: this.limit - count, resetSeconds };
  }

  /** Counts one request of `client`; past the limit, throws a 429 with Retry-After. */
  async enforce(client: string, nowMs: number): Promise<RateLimitDecision> {
    const decision = await this.hit(client, nowMs);
    if (!decision.allowed) throw this.limited(decision, `more than ${decision.limit} requests in ${this.windowSeconds} s`);
    return decision;
  }

  /** Throws a 429 if `client` has used up the window already, without counting this request. */
  async refuseOverLimit(client: string, nowMs: number, what: string): Promise<void> {
    const { key, resetSeconds } = this.window(client, nowMs);
    if (Number((await this.kv.get(key)) ?? "0") >= this.limit) {
      throw this.limited({ allowed: false, limit: this.limit, remaining: 0, resetSeconds }, `more than ${this.limit} ${what} in ${this.windowSeconds} s`);
    }
  }

  private limited(decision: RateLimitDecision, message: string): HttpError {
    return new HttpError(429, "rate_limited", message, { "retry-after": String(decision.resetSeconds), ...rateLimitHeaders(decision) });
  }
}

export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(decision.resetSeconds),
  };
}

/** The client's address as Cloudflare's edge reports it. */
export function clientAddress(request: Request): string {
  return request.headers.get("cf-connecting-ip") ?? "unknown";
}
