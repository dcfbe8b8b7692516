// The bindings of a read-API Worker (stacks/catalog/workers.yaml, family "api").
export interface ApiEnv {
  DB: D1Database;
  CACHE: KVNamespace;
  /** Only the search API: nicknames and abbreviations, `synonym:<term>` -> expansion. */
  SYNONYMS?: KVNamespace;
  SPORT: string;
  DATASET: string;
}
