// An ingestion Worker: on its cron, one run of its feed (SPORT, PROVIDER, FEED vars) from
// UPSTREAM_URL into DB. A failed run is recorded in the ledger and then fails the cron
// invocation too, so Cloudflare's cron metrics show it.
import { guarded, notFound } from "../shared/respond";
import type { IngestEnv } from "./env";
import { runIngestion } from "./run";

export default {
  async fetch(): Promise<Response> {
    return guarded(async () => {
      throw notFound("ingestion Workers only run on their cron");
    });
  },

  async scheduled(controller, env, ctx): Promise<void> {
    const result = await runIngestion(env, controller.scheduledTime, ctx);
    if (result.status === "failed") throw new Error(`ingestion failed: ${result.error}`);
  },
} satisfies ExportedHandler<IngestEnv>;
