// The stack's alert webhook. Deliveries are signed with HMAC-SHA256 over
// "<timestamp>.<body>" (X-Blaze-Timestamp, X-Blaze-Signature), so the receiver can check
// origin and reject replays.
import { text } from "../shared/config";
import { hmacSha256Hex } from "../shared/crypto";
import type { MonitorEnv } from "./env";

export interface SendResult {
  status: number | null;
  error: string | null;
}

const WEBHOOK_TIMEOUT_MS = 10_000;

export async function sendSigned(env: MonitorEnv, payload: unknown): Promise<SendResult> {
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = await hmacSha256Hex(text(env, "ALERT_WEBHOOK_SECRET"), `${timestamp}.${body}`);
  try {
    const response = await fetch(text(env, "ALERT_WEBHOOK_URL"), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "blaze-monitor",
        "x-blaze-timestamp": timestamp,
        "x-blaze-signature": `sha256=${signature}`,
      },
      body,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return { status: response.status, error: response.ok ? null : `webhook answered ${response.status}` };
  } catch (err) {
    // The URL is a secret: report the failure's kind, never the address.
    return { status: null, error: err instanceof Error ? err.name : "fetch failed" };
  }
}
