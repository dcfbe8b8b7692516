// The backup Worker: daily, exports every bound D1 database to BACKUPS under
// BACKUP_PREFIX<date>/ (see export.ts). One database failing does not stop the others;
// the run's summary lists each outcome, and a failed export fails the cron invocation.
import { text } from "../shared/config";
import { guarded, notFound } from "../shared/respond";
import { backedUpDatabases, type BackupEnv } from "./env";
import { exportDatabase } from "./export";

async function backUp(env: BackupEnv, now: number): Promise<void> {
  const prefix = text(env, "BACKUP_PREFIX");
  const outcomes = await Promise.all(
    backedUpDatabases(env).map(async ([binding, db]) => {
      try {
        const manifest = await exportDatabase(binding, db, env.BACKUPS, prefix, now);
        return { database: binding, ok: true, tables: manifest.tables.length, bytes: manifest.dump.bytes };
      } catch (err) {
        return { database: binding, ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  const date = new Date(now).toISOString().slice(0, 10);
  await env.BACKUPS.put(`${prefix}${date}/_summary.json`, JSON.stringify({ createdAt: new Date(now).toISOString(), databases: outcomes }, null, 2), {
    httpMetadata: { contentType: "application/json" },
  });
  const failed = outcomes.filter((o) => !o.ok).map((o) => o.database);
  if (failed.length) throw new Error(`export failed for ${failed.join(", ")}`);
}

export default {
  async fetch(): Promise<Response> {
    return guarded(async () => {
      throw notFound("the backup Worker only runs on its cron");
    });
  },

  async scheduled(controller, env): Promise<void> {
    await backUp(env, controller.scheduledTime);
  },
} satisfies ExportedHandler<BackupEnv>;
