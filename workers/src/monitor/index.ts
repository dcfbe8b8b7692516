// The monitor Worker: every 5 minutes it measures every bound D1 database, keeps the
// history in MONITOR_DB, alerts the stack's webhook on thresholds; daily (REPORT_CRON)
// it writes and sends a report. Its fetch handler serves the dashboard's reads.
import { text } from "../shared/config";
import { guarded } from "../shared/respond";
import { dashboard } from "./dashboard";
import type { MonitorEnv } from "./env";
import { collectAll, dailyReport } from "./run";

export default {
  async fetch(request, env): Promise<Response> {
    return guarded(() => dashboard(request, env));
  },

  async scheduled(controller, env): Promise<void> {
    if (controller.cron === text(env, "REPORT_CRON")) {
      await dailyReport(env, controller.scheduledTime);
    } else {
      await collectAll(env, controller.scheduledTime);
    }
  },
} satisfies ExportedHandler<MonitorEnv>;
