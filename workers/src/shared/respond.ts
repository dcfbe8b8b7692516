// JSON responses with one stable shape for every Worker of the fleet:
//   success: whatever the endpoint documents; failure: {"error": {"code", "message"}}.
// An unexpected exception becomes a 500 with a fixed message: the details go to the
// Worker's logs (name and message only), never to the client.

export interface ErrorBody {
  error: { code: string; message: string };
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const merged = new Headers(headers);
  merged.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { status, headers: merged });
}

export function error(status: number, code: string, message: string, headers: HeadersInit = {}): Response {
  const body: ErrorBody = { error: { code, message } };
  return json(body, status, headers);
}

function errorResponse(err: unknown): Response {
  if (err instanceof HttpError) {
    return error(err.status, err.code, err.message, err.headers);
  }
  const name = err instanceof Error ? err.name : typeof err;
  const message = err instanceof Error ? err.message : String(err);
  console.error(JSON.stringify({ level: "error", event: "unhandled", name, message }));
  return error(500, "internal", "internal error");
}

/** Runs a request handler and turns anything it throws into the stable error shape. */
export async function guarded(handler: () => Promise<Response>): Promise<Response> {
  try {
    return await handler();
  } catch (err) {
    return errorResponse(err);
  }
}

export function methodNotAllowed(allowed: readonly string[]): HttpError {
  return new HttpError(405, "method_not_allowed", `use ${allowed.join(", ")}`, { allow: allowed.join(", ") });
}

export function notFound(what = "no such resource"): HttpError {
  return new HttpError(404, "not_found", what);
}

export function badRequest(message: string): HttpError {
  return new HttpError(400, "bad_request", message);
}

/** The JSON body of a request, or a 400 naming what is wrong with it. */
export async function readJson(request: Request): Promise<unknown> {
  if (!(request.headers.get("content-type") ?? "").toLowerCase().startsWith("application/json")) {
    throw new HttpError(415, "unsupported_media_type", "send the body as application/json");
  }
  try {
    return await request.json();
  } catch {
    throw badRequest("the body is not valid JSON");
  }
}
