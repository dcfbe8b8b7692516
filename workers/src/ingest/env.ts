// The bindings of an ingestion Worker (stacks/catalog/workers.yaml, family "ingest").
export interface IngestEnv {
  DB: D1Database;
  LOG: D1Database;
  CACHE: KVNamespace;
  CURSORS: KVNamespace;
  ETAGS: KVNamespace;
  /** Only the live feeds: the site's score ticker. */
  TICKER?: KVNamespace;
  ARCHIVE: R2Bucket;
  SPORT: string;
  FEED: string;
  PROVIDER: string;
  UPSTREAM_URL: string;
  UPSTREAM_TIMEOUT_MS: string;
  /** Absent for the providers that need no key. */
  UPSTREAM_API_KEY?: string;
}
