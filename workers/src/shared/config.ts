// Reading a Worker's plain-text configuration (catalog `vars`). A missing or malformed
// value is the deployment's fault, so it is a 500 that names the setting, not its value.
import { HttpError } from "./respond";

function misconfigured(name: string): HttpError {
  return new HttpError(500, "misconfigured", `the Worker's setting ${name} is missing or invalid`);
}

export function text(env: object, name: string): string {
  const value: unknown = (env as Record<string, unknown>)[name];
  if (typeof value !== "string" || value.length === 0) throw misconfigured(name);
  return value;
}

export function positiveNumber(env: object, name: string): number {
  const value = Number(text(env, name));
  if (!Number.isFinite(value) || value <= 0) throw misconfigured(name);
  return value;
}

export function positiveInteger(env: object, name: string): number {
  const value = positiveNumber(env, name);
  if (!Number.isInteger(value)) throw misconfigured(name);
  return value;
}

export function list(env: object, name: string): string[] {
  return text(env, name)
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
