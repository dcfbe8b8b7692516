// The bindings of the backup Worker (stacks/catalog/workers.yaml, family "backup"):
// one DB_<NAME> binding per database of the fleet, and the bucket the exports go to.
export interface BackupEnv {
  [binding: `DB_${string}`]: D1Database;
  BACKUPS: R2Bucket;
  BACKUP_PREFIX: string;
}

export function backedUpDatabases(env: BackupEnv): [string, D1Database][] {
  const found: [string, D1Database][] = [];
  for (const name of Object.keys(env).sort()) {
    const db = name.startsWith("DB_") ? env[name as `DB_${string}`] : undefined;
    if (db) found.push([name, db]);
  }
  return found;
}
