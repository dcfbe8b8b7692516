// The bindings of the gateway Worker (stacks/catalog/workers.yaml, family "gateway").
// Besides these, one service binding per read API, named <SPORT>_<DATASET> (MLB_SCORES)
// or <DATASET> for the sport-independent ones (SEARCH, ODDS, TEAMS); see `service`.
export interface GatewayEnv {
  API_KEYS: KVNamespace;
  RATE_LIMITS: KVNamespace;
  CACHE: KVNamespace;
  FLAGS: KVNamespace;
  TICKER: KVNamespace;
  RATE_LIMIT_REQUESTS: string;
  RATE_LIMIT_WINDOW_SECONDS: string;
}

// The gateway's own bindings, which no path may reach. Typed as a record over the Env's
// keys, so adding a binding to GatewayEnv without listing it here does not compile.
const OWN_BINDINGS: Record<keyof GatewayEnv, true> = {
  API_KEYS: true,
  RATE_LIMITS: true,
  CACHE: true,
  FLAGS: true,
  TICKER: true,
  RATE_LIMIT_REQUESTS: true,
  RATE_LIMIT_WINDOW_SECONDS: true,
};

/** The service binding named `name`, if the gateway has one. */
export function service(env: GatewayEnv, name: string): Fetcher | null {
  if (Object.hasOwn(OWN_BINDINGS, name)) return null;
  // Service bindings are RPC stubs, which answer any property; only their fetch matters.
  const value: unknown = (env as unknown as Record<string, unknown>)[name];
  return typeof value === "object" && value !== null && typeof (value as { fetch?: unknown }).fetch === "function" ? (value as Fetcher) : null;
}
