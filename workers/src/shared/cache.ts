// The shared cache manager: read-through JSON caching in KV, invalidated by tag
// generations, with stale-while-revalidate and a time-to-live per kind of data.
//
// An entry is one KV value under a key made of its parts (`storageKey`). Every tag has a
// generation in KV (`g:<tag>`), and so has every tag family (`f:<family>`, tags.ts). An
// entry records the generations of its tags and their families as they were read before
// its value was loaded, and is valid while all of them are unchanged. Invalidating a tag is
// one write of a new generation, however many entries carry it; a run that changes more
// than MAX_INVALIDATIONS tags writes new generations of its biggest families instead, so
// invalidation stays within KV's 1,000 operations per invocation however much changed. One
// bulk read (one operation, up to 100 keys) brings an entry with every generation it needs.
//
// A valid entry is served fresh (HIT), or stale within its revalidation window (STALE,
// while `waitUntil` reloads it); an invalid or older one is reloaded (MISS).
import { sha256Hex } from "./crypto";
import { familyOf } from "./tags";

export interface CachePolicy {
  freshSeconds: number;
  staleSeconds: number;
}

/** How long each kind of data stays fresh, and how long it may then be served stale. */
export const CACHE_POLICIES = {
  live: { freshSeconds: 10, staleSeconds: 50 },
  odds: { freshSeconds: 30, staleSeconds: 90 },
  standings: { freshSeconds: 300, staleSeconds: 900 },
  schedule: { freshSeconds: 600, staleSeconds: 3600 },
  analytics: { freshSeconds: 600, staleSeconds: 3600 },
  search: { freshSeconds: 600, staleSeconds: 3600 },
  roster: { freshSeconds: 3600, staleSeconds: 6 * 3600 },
  history: { freshSeconds: 86400, staleSeconds: 86400 },
} as const satisfies Record<string, CachePolicy>;

export type CacheKind = keyof typeof CACHE_POLICIES;
export type CacheStatus = "HIT" | "STALE" | "MISS";

interface CacheEntry<T> {
  value: T;
  storedAt: number;
  freshUntil: number;
  staleUntil: number;
  /** Generation key -> the generation read before the value was loaded (null: none yet). */
  generations: Record<string, string | null>;
}

/**
 * The longest a copy of an answer may live outside this cache (the gateway's, a browser's),
 * where no invalidation reaches it: KV's own propagation time, so no layer lags more than KV.
 */
export const SHARED_MAX_AGE_SECONDS = 60;
/** Generation writes one invalidation may make; the rest of a run's KV budget is its own. */
export const MAX_INVALIDATIONS = 400;
// KV's limits: key length, keys per bulk read, the shortest expiration.
const MAX_KEY_BYTES = 512;
const MAX_BULK_READ = 100;
const MIN_KV_TTL_SECONDS = 60;
// A generation outlives every entry that can have recorded it: one expiring earlier would
// only turn such entries into misses.
const GENERATION_TTL_SECONDS = Math.max(...Object.values(CACHE_POLICIES).map((p) => p.freshSeconds + p.staleSeconds));
// KV takes one write per second to a key; two runs may bump one generation in the same second.
const SAME_KEY_WRITE_INTERVAL_MS = 1100;

/**
 * A KV key of `parts` after `prefix`, one to one: each part percent-encoded (so ':', the
 * separator, is never inside one), or, past KV's 512 bytes, '#' and the SHA-256 of that text.
 */
export async function storageKey(prefix: string, parts: readonly string[]): Promise<string> {
  const encoded = parts.map(encodeURIComponent).join(":");
  // Percent-encoded text is ASCII: its length is its size in bytes.
  if (prefix.length + encoded.length <= MAX_KEY_BYTES) return `${prefix}${encoded}`;
  return `${prefix}#${await sha256Hex(encoded)}`;
}

function generationKeys(tags: readonly string[]): Promise<string[]> {
  const families = new Set(tags.map(familyOf));
  return Promise.all([...new Set(tags)].map((t) => storageKey("g:", [t])).concat([...families].map((f) => storageKey("f:", [f]))));
}

function parsed<T>(text: string | null | undefined): CacheEntry<T> | null {
  if (!text) return null;
  const entry = JSON.parse(text) as Partial<CacheEntry<T>>;
  // An entry of another layout (an earlier release's) is no entry.
  return typeof entry.generations === "object" && entry.generations !== null ? (entry as CacheEntry<T>) : null;
}

export class CacheManager {
  constructor(
    private readonly kv: KVNamespace,
    private readonly ctx: ExecutionContext,
  ) {}

  async getOrLoad<T>(
    key: readonly string[],
    kind: CacheKind,
    tags: readonly string[],
    load: () => Promise<T>,
  ): Promise<{ value: T; status: CacheStatus }> {
    const entryKey = await storageKey("c:", key);
    const keys = await generationKeys(tags);
    if (keys.length + 1 > MAX_BULK_READ) throw new Error(`a cache entry with ${tags.length} tags needs more than one bulk read`);
    const found = await this.kv.get([entryKey, ...keys], "text");
    const generations = Object.fromEntries(keys.map((k) => [k, found.get(k) ?? null]));
    const entry = parsed<T>(found.get(entryKey));
    const valid = entry !== null && keys.every((k) => (entry.generations[k] ?? null) === generations[k]);
    const now = Date.now();
    if (valid && now < entry.freshUntil) {
      return { value: entry.value, status: "HIT" };
    }
    if (valid && now < entry.staleUntil) {
      this.ctx.waitUntil(this.reload(entryKey, kind, generations, load));
      return { value: entry.value, status: "STALE" };
    }
    const value = await load();
    await this.store(entryKey, kind, generations, value);
    return { value, status: "MISS" };
  }

  private async store<T>(entryKey: string, kind: CacheKind, generations: Record<string, string | null>, value: T): Promise<void> {
    const policy = CACHE_POLICIES[kind];
    const now = Date.now();
    const entry: CacheEntry<T> = {
      value,
      storedAt: now,
      freshUntil: now + policy.freshSeconds * 1000,
      staleUntil: now + (policy.freshSeconds + policy.staleSeconds) * 1000,
      generations,
    };
    const expirationTtl = Math.max(MIN_KV_TTL_SECONDS, policy.freshSeconds + policy.staleSeconds);
    await this.kv.put(entryKey, JSON.stringify(entry), { expirationTtl });
  }

  private async reload<T>(entryKey: string, kind: CacheKind, generations: Record<string, string | null>, load: () => Promise<T>): Promise<void> {
    try {
      await this.store(entryKey, kind, generations, await load());
    } catch (err) {
      // The stale copy keeps being served until it expires; the next request retries.
      console.error(JSON.stringify({ level: "error", event: "cache_revalidation_failed", key: entryKey, message: String(err) }));
    }
  }

  /**
   * Makes every entry carrying one of `tags` invalid, in at most MAX_INVALIDATIONS writes:
   * past that, the families with the most changed tags are invalidated whole. Returns the
   * number of generations written.
   */
  async invalidate(tags: Iterable<string>): Promise<number> {
    const byFamily = new Map<string, string[]>();
    for (const t of new Set(tags)) byFamily.set(familyOf(t), [...(byFamily.get(familyOf(t)) ?? []), t]);
    let writes = [...byFamily.values()].reduce((sum, members) => sum + members.length, 0);
    const whole = new Set<string>();
    for (const [family, members] of [...byFamily].sort((a, b) => b[1].length - a[1].length)) {
      if (writes <= MAX_INVALIDATIONS) break;
      whole.add(family);
      writes -= members.length - 1;
    }
    const keys = await Promise.all(
      [...byFamily].flatMap(([family, members]) => (whole.has(family) ? [storageKey("f:", [family])] : members.map((t) => storageKey("g:", [t])))),
    );
    const generation = crypto.randomUUID();
    const write = (key: string): Promise<void> => this.kv.put(key, generation, { expirationTtl: GENERATION_TTL_SECONDS });
    const failed = (await Promise.allSettled(keys.map(write))).flatMap((r, i) => (r.status === "rejected" ? [keys[i]!] : []));
    if (failed.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, SAME_KEY_WRITE_INTERVAL_MS));
      await Promise.all(failed.map(write));
    }
    return keys.length;
  }
}
