// JSON responses with one stable shape for every Worker of the fleet.

export interface ErrorBody {
  error: { code: string; message: string };
}

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function error(status: number, code: string, message: string): Response {
  const body: ErrorBody = { error: { code, message } };
  return json(body, status);
}

export function notImplemented(family: string): Response {
  return error(501, "not_implemented", `the ${family} runtime is not implemented yet`);
}
