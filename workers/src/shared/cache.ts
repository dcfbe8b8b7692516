// The shared cache manager: read-through JSON caching in KV with tags,
// stale-while-revalidate and a time-to-live per kind of data.
//
// An entry lives under `c:<key>`; each of its tags adds an index key `t:<tag>|<key>`,
// so invalidating a tag lists that prefix and deletes the entries it names. Entries
// carry their own freshness: fresh -> served as HIT; stale but within the revalidation
// window -> served as STALE while `waitUntil` reloads it; older -> reloaded (MISS).

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

export interface CacheEntry<T> {
  value: T;
  storedAt: number;
  freshUntil: number;
  staleUntil: number;
  tags: string[];
}

// KV refuses expirations shorter than 60 seconds.
const MIN_KV_TTL_SECONDS = 60;
const TAG = /^[A-Za-z0-9:_.-]{1,200}$/;

function entryKey(key: string): string {
  return `c:${key}`;
}

function indexPrefix(tag: string): string {
  if (!TAG.test(tag)) throw new Error(`invalid cache tag ${JSON.stringify(tag)}`);
  return `t:${tag}|`;
}

export class CacheManager {
  constructor(
    private readonly kv: KVNamespace,
    private readonly ctx: ExecutionContext,
  ) {}

  async getOrLoad<T>(
    key: string,
    kind: CacheKind,
    tags: readonly string[],
    load: () => Promise<T>,
  ): Promise<{ value: T; status: CacheStatus }> {
    const entry = await this.kv.get<CacheEntry<T>>(entryKey(key), "json");
    const now = Date.now();
    if (entry && now < entry.freshUntil) {
      return { value: entry.value, status: "HIT" };
    }
    if (entry && now < entry.staleUntil) {
      this.ctx.waitUntil(this.reload(key, kind, tags, load));
      return { value: entry.value, status: "STALE" };
    }
    const value = await load();
    await this.store(key, kind, tags, value);
    return { value, status: "MISS" };
  }

  async store<T>(key: string, kind: CacheKind, tags: readonly string[], value: T): Promise<void> {
    const policy = CACHE_POLICIES[kind];
    const now = Date.now();
    const entry: CacheEntry<T> = {
      value,
      storedAt: now,
      freshUntil: now + policy.freshSeconds * 1000,
      staleUntil: now + (policy.freshSeconds + policy.staleSeconds) * 1000,
      tags: [...tags],
    };
    const expirationTtl = Math.max(MIN_KV_TTL_SECONDS, policy.freshSeconds + policy.staleSeconds);
    await Promise.all([
      this.kv.put(entryKey(key), JSON.stringify(entry), { expirationTtl }),
      ...tags.map((tag) => this.kv.put(indexPrefix(tag) + key, "", { expirationTtl })),
    ]);
  }

  private async reload<T>(key: string, kind: CacheKind, tags: readonly string[], load: () => Promise<T>): Promise<void> {
    try {
      await this.store(key, kind, tags, await load());
    } catch (err) {
      // The stale copy keeps being served until it expires; the next request retries.
      console.error(JSON.stringify({ level: "error", event: "cache_revalidation_failed", key, message: String(err) }));
    }
  }

  /** Deletes every entry carrying one of `tags`; returns how many entries went. */
  async invalidateTags(tags: Iterable<string>): Promise<number> {
    let removed = 0;
    for (const tag of new Set(tags)) {
      const prefix = indexPrefix(tag);
      let cursor: string | undefined;
      do {
        const page: KVNamespaceListResult<unknown> = await this.kv.list(cursor ? { prefix, cursor } : { prefix });
        await Promise.all(
          page.keys.flatMap(({ name }) => [this.kv.delete(entryKey(name.slice(prefix.length))), this.kv.delete(name)]),
        );
        removed += page.keys.length;
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor);
    }
    return removed;
  }
}
