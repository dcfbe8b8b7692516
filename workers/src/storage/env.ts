// The bindings of a storage Worker (stacks/catalog/workers.yaml, family "storage").
export interface StorageEnv {
  DB: D1Database;
  MEDIA: R2Bucket;
  RATE_LIMITS: KVNamespace;
  UPLOAD_SESSIONS: KVNamespace;
  UPLOAD_TOKEN: string;
  MAX_UPLOAD_BYTES: string;
  ALLOWED_TYPES: string;
  RATE_LIMIT_REQUESTS: string;
  RATE_LIMIT_WINDOW_SECONDS: string;
  ALLOWED_ORIGINS: string; // the media bucket's CORS origins in this stack, comma-separated
}
