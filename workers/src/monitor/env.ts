// The bindings of the monitor Worker (stacks/catalog/workers.yaml, family "monitor").
// Every D1 database it binds is monitored: MONITOR_DB, which also keeps the history,
// and one DB_<NAME> binding per other database of the fleet.
export interface MonitorEnv {
  MONITOR_DB: D1Database;
  [binding: `DB_${string}`]: D1Database;
  STATE: KVNamespace;
  SIZE_WARNING_MB: string;
  SIZE_CRITICAL_MB: string;
  GROWTH_WARNING_MB_PER_DAY: string;
  GROWTH_CRITICAL_MB_PER_DAY: string;
  LATENCY_WARNING_MS: string;
  LATENCY_CRITICAL_MS: string;
  REALERT_MINUTES: string;
  ALERT_RETRY_HOURS: string;
  RETENTION_DAYS: string;
  REPORT_CRON: string;
  ALERT_WEBHOOK_URL: string;
  ALERT_WEBHOOK_SECRET: string;
  DASHBOARD_TOKEN: string;
}

/** The monitored databases, by binding name, in a stable order. */
export function monitoredDatabases(env: MonitorEnv): [string, D1Database][] {
  const found: [string, D1Database][] = [["MONITOR_DB", env.MONITOR_DB]];
  for (const name of Object.keys(env).sort()) {
    const db = name.startsWith("DB_") ? env[name as `DB_${string}`] : undefined;
    if (db) found.push([name, db]);
  }
  return found;
}
