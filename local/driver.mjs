// A long-lived Miniflare driver: one JSON request per stdin line, one JSON reply per
// stdout line, matched by `id`. Python (local/driver.py) starts it once and asks it for
// fresh Miniflare instances, requests, cron runs and reads of D1, KV and R2.
//
// Outbound fetches from the Workers go through `outboundService`, which lets loopback
// addresses through (the stubs of remote services) and answers everything else with 502,
// recording the URL: nothing a test runs can reach the network.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

// Miniflare ships as one 4 MB CommonJS file. require() loads it directly; an ES import
// first has Node scan all of it for its export names (about 0.35 s of every start).
const { Miniflare, fetch: miniflareFetch } = createRequire(import.meta.url)("miniflare");

const instances = new Map();
let nextHandle = 1;

// Reads and writes of D1, KV and R2 go through one extra Worker in each instance, bound
// to every database, namespace and bucket the started Workers bind (same ids, so the
// same storage). A fetch to it costs milliseconds, where Miniflare's Node-side proxies
// (getD1Database...) cost a few hundred on first use in every instance. It is reached
// through the entry Worker (dispatchFetch, told which Worker to run), not getWorker():
// that proxy too costs about 0.15 s on first use, which every start paid to migrate.
const INSPECTOR = "driver-inspector";
// Miniflare's entry Worker runs the Worker this header names (and strips the header).
const ROUTE_OVERRIDE = "MF-Route-Override";
const INSPECTOR_SCRIPT = `
const encode = (bytes) => { let s = ""; for (let i = 0; i < bytes.length; i += 32768) s += String.fromCharCode(...bytes.subarray(i, i + 32768)); return btoa(s); };
const decode = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
// Operations on counted KV bindings, by "<worker>/<binding>" and operation.
const counts = new Map();
async function run(env, q) {
  if (q.kind === "count") {
    const ops = counts.get(q.label) ?? {};
    ops[q.op] = (ops[q.op] ?? 0) + 1;
    counts.set(q.label, ops);
    return null;
  }
  if (q.kind === "counts") {
    const ops = counts.get(q.label) ?? {};
    if (q.reset) counts.delete(q.label);
    return ops;
  }
  const target = env[q.binding];
  if (q.kind === "d1") {
    if (q.action === "migrate") {
      await target.prepare(q.createTable).run();
      const applied = new Set((await target.prepare(\`SELECT name FROM "\${q.table}"\`).all()).results.map((r) => r.name));
      for (const file of q.files) {
        if (applied.has(file.name)) continue;
        await target.batch([
          ...file.statements.map((sql) => target.prepare(sql)),
          target.prepare(\`INSERT INTO "\${q.table}" (name) values (?)\`).bind(file.name),
        ]);
      }
      return null;
    }
    const result = await target.prepare(q.sql).bind(...q.params).all();
    return { results: result.results, meta: result.meta };
  }
  if (q.kind === "kv") {
    if (q.action === "get") return (await target.getWithMetadata(q.key, "text"));
    if (q.action === "put") return (await target.put(q.key, q.value, q.options), null);
    if (q.action === "delete") return (await target.delete(q.key), null);
    const keys = []; let cursor;
    do { const page = await target.list({ prefix: q.key, cursor }); keys.push(...page.keys); cursor = page.list_complete ? undefined : page.cursor; } while (cursor);
    return q.action === "expirations" ? Object.fromEntries(keys.map((k) => [k.name, k.expiration ?? null])) : keys.map((k) => k.name);
  }
  if (q.action === "get") {
    const object = await target.get(q.key);
    return object === null ? null : { body: encode(new Uint8Array(await object.arrayBuffer())), size: object.size, etag: object.etag };
  }
  if (q.action === "put") return (await target.put(q.key, decode(q.body)), null);
  const keys = []; let cursor;
  do { const page = await target.list({ prefix: q.key, cursor }); keys.push(...page.objects.map((o) => o.key)); cursor = page.truncated ? page.cursor : undefined; } while (cursor);
  return keys;
}
export default {
  async fetch(request, env) {
    try { return Response.json({ ok: true, result: await run(env, await request.json()) }); }
    catch (err) { return Response.json({ ok: false, error: String(err && err.message || err) }); }
  },
};`;

const KINDS = { d1: "d1Databases", kv: "kvNamespaces", r2: "r2Buckets" };

// A KV binding whose every call is counted, so a test can hold a Worker to Cloudflare's
// operations per invocation, which local workerd does not enforce. The binding is a
// Miniflare wrapped binding: this module runs in the Worker's own isolate around the real
// namespace (INNER) and reports each call to the inspector before making it. A bulk get
// is one call, as Cloudflare counts it.
const KV_COUNTER_SCRIPT = `
export default function (env) {
  const counted = (op) => async (...args) => {
    await env.COUNTER.fetch("http://inspector/", { method: "POST", body: JSON.stringify({ kind: "count", label: env.LABEL, op }) });
    return env.INNER[op](...args);
  };
  return Object.fromEntries(["get", "getWithMetadata", "put", "delete", "list"].map((op) => [op, counted(op)]));
}`;

/** Replaces each counted KV binding ({worker, binding}) by a counting wrapper; returns the wrappers' Workers. */
function countKvBindings(workers, counted) {
  return counted.map(({ worker, binding }, i) => {
    const config = workers.find((w) => w.name === worker);
    const id = config?.kvNamespaces?.[binding];
    if (id === undefined) throw new Error(`${worker} has no KV binding ${binding} to count`);
    const name = `driver-kv-counter-${i}`;
    const { [binding]: _, ...others } = config.kvNamespaces;
    config.kvNamespaces = others;
    config.wrappedBindings = { ...config.wrappedBindings, [binding]: { scriptName: name, bindings: { LABEL: `${worker}/${binding}` } } };
    return { name, modules: true, script: KV_COUNTER_SCRIPT, kvNamespaces: { INNER: id }, serviceBindings: { COUNTER: INSPECTOR } };
  });
}

/** The inspector's Miniflare options and, per (worker, kind, binding), its binding name. */
function inspectorFor(workers) {
  const bindings = { d1Databases: {}, kvNamespaces: {}, r2Buckets: {} };
  const byResource = new Map();
  const route = new Map();
  for (const worker of workers) {
    for (const [kind, option] of Object.entries(KINDS)) {
      for (const [binding, id] of Object.entries(worker[option] ?? {})) {
        const resource = `${kind}:${id}`;
        if (!byResource.has(resource)) {
          const name = `${kind.toUpperCase()}_${byResource.size}`;
          byResource.set(resource, name);
          bindings[option][name] = id;
        }
        route.set(`${worker.name}/${kind}/${binding}`, byResource.get(resource));
      }
    }
  }
  const options = { name: INSPECTOR, modules: true, script: INSPECTOR_SCRIPT, compatibilityDate: workers[0].compatibilityDate, ...bindings };
  return { options, route };
}

async function inspect(handle, worker, kind, binding, query) {
  const { mf, route } = instance(handle);
  const name = route.get(`${worker}/${kind}/${binding}`);
  if (!name) throw new Error(`${worker} has no ${kind} binding ${binding}`);
  const response = await mf.dispatchFetch("http://inspector/", {
    method: "POST",
    headers: { [ROUTE_OVERRIDE]: INSPECTOR },
    body: JSON.stringify({ ...query, kind, binding: name }),
  });
  const reply = await response.json();
  if (!reply.ok) throw new Error(reply.error);
  return reply.result;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
// wrangler's own statement (wrangler-dist/cli.js, getCreateMigrationsTableQuery), so the
// tracking table is the one `wrangler d1 migrations apply` creates and reads.
const CREATE_TRACKING_TABLE = (table) => `CREATE TABLE IF NOT EXISTS "${table}"(
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		name       TEXT UNIQUE,
		applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
);`;

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

function instance(handle) {
  const found = instances.get(handle);
  if (!found) throw new Error(`no Miniflare instance ${handle}`);
  return found;
}

// Every Worker's outbound service is this one Worker, which hands each request on to
// `loopbackOnly`. Given the function itself, Miniflare starts one relay isolate per Worker
// (73 for the fleet, about 0.35 s of its start); this way there is one for all. The
// relay's own outbound step leaves the caller's headers as they are
// (`stripCfConnectingIp: false`), so the function sees the request it saw before.
const OUTBOUND = "driver-outbound";
const OUTBOUND_SCRIPT = "export default { fetch: (request) => fetch(request) };";

function outboundRelay(blocked, compatibilityDate) {
  return { name: OUTBOUND, modules: true, script: OUTBOUND_SCRIPT, compatibilityDate, stripCfConnectingIp: false, outboundService: loopbackOnly(blocked) };
}

function loopbackOnly(blocked) {
  return async (request) => {
    const url = new URL(request.url);
    if (!LOOPBACK_HOSTS.has(url.hostname)) {
      blocked.push(request.url);
      return new Response(`the test driver blocks ${url.host}: only loopback stubs are reachable`, { status: 502 });
    }
    // Miniflare's own fetch, so the response is of the class Miniflare hands back to workerd.
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
    return miniflareFetch(request.url, { method: request.method, headers: request.headers, body, redirect: "manual" });
  };
}

// Each database is its own SQLite file, so they migrate side by side.
async function applyMigrations(handle, migrations) {
  await Promise.all(
    migrations.map(({ worker, binding, table, files }) =>
      inspect(handle, worker, "d1", binding, { action: "migrate", createTable: CREATE_TRACKING_TABLE(table), table, files }),
    ),
  );
}

function toBytes(base64) {
  return base64 == null ? undefined : Buffer.from(base64, "base64");
}

/** A body that arrives in `chunks` pieces, `delayMs` apart: a slow client's upload. */
function trickle(bytes, chunks, delayMs) {
  const size = Math.ceil(bytes.byteLength / chunks);
  let offset = 0;
  return new ReadableStream({
    async pull(controller) {
      if (offset > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      controller.enqueue(bytes.subarray(offset, offset + size));
      offset += size;
      if (offset >= bytes.byteLength) controller.close();
    },
  });
}

async function dispatch(mf, name, { url, method, headers, body, trickle: slow, afterMs }) {
  const target = await mf.getWorker(name);
  if (afterMs) await new Promise((resolve) => setTimeout(resolve, afterMs));
  const bytes = toBytes(body);
  const sent = new Headers(headers);
  // What an HTTP client sends with a body of known size; the proxy would stream it otherwise.
  if (bytes !== undefined && !sent.has("content-length")) sent.set("content-length", String(bytes.byteLength));
  const streamed = bytes !== undefined && slow ? trickle(bytes, slow.chunks, slow.delayMs) : bytes;
  const init = { method, headers: sent, body: streamed, redirect: "manual", ...(streamed === bytes ? {} : { duplex: "half" }) };
  if (sent.has("origin")) {
    // The proxy behind getWorker() is one of Miniflare's own /cdn-cgi/ endpoints, which
    // refuse an Origin other than localhost (their guard against other sites' pages). A
    // browser's request goes in through the entry Worker instead, told which Worker to run.
    sent.set(ROUTE_OVERRIDE, name);
    return replyOf(await mf.dispatchFetch(url, init));
  }
  return replyOf(await target.fetch(url, init));
}

async function replyOf(response) {
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: [...response.headers.entries()], body: body.toString("base64") };
}

const ops = {
  async start({ workers, persist, migrations, port, triggers, countKv }) {
    const blocked = [];
    // wrangler's layout for local state, so `wrangler d1 execute --local --persist-to`
    // and this driver read and write the same files.
    const shared = persist
      ? { d1Persist: `${persist}/v3/d1`, kvPersist: `${persist}/v3/kv`, r2Persist: `${persist}/v3/r2` }
      : {};
    // Before the counters take their bindings: the inspector reads the namespaces directly.
    const inspector = inspectorFor(workers);
    const counters = countKvBindings(workers, countKv ?? []);
    const began = performance.now();
    const mf = new Miniflare({
      cf: false,
      ...(port === undefined ? {} : { host: "127.0.0.1", port }),
      // /cdn-cgi/handler/scheduled?cron=... runs a cron by hand (make dev only).
      ...(triggers ? { unsafeTriggerHandlers: true } : {}),
      ...shared,
      // No Worker here uses the Cache API (tests/local/test_local_runtime.py keeps it
      // so). With it on, Miniflare gives each Worker a cache isolate that loads its
      // shared library, about 0.3 s of the fleet's start; off, caches.default is a no-op.
      workers: [
        ...workers.map((w) => ({ modules: true, ...w, outboundService: OUTBOUND })),
        inspector.options,
        outboundRelay(blocked, workers[0].compatibilityDate),
      ].map((w) => ({ ...w, cache: false })).concat(counters),
    });
    const url = await mf.ready;
    const readyAt = performance.now();
    const handle = nextHandle++;
    instances.set(handle, { mf, blocked, route: inspector.route });
    try {
      // Like `wrangler d1 migrations apply --local`: wrangler's tracking table, then per
      // file its statements and its record in one batch, which D1 runs as one transaction.
      await applyMigrations(handle, migrations ?? []);
    } catch (err) {
      instances.delete(handle);
      await mf.dispose();
      throw err;
    }
    // Where the start went: Miniflare's config and workerd's start, then the migrations.
    const seconds = { runtime: (readyAt - began) / 1000, migrations: (performance.now() - readyAt) / 1000 };
    return { handle, url: url.href, seconds };
  },

  async fetch({ handle, worker, ...request }) {
    return dispatch(instance(handle).mf, worker, request);
  },

  // Several requests in flight at once, as concurrent clients send them (each `afterMs` from
  // now); replies in order.
  async fetchAll({ handle, worker, requests }) {
    const { mf } = instance(handle);
    return Promise.all(requests.map((request) => dispatch(mf, worker, request)));
  },

  async scheduled({ handle, worker, cron, scheduledTime }) {
    const target = await instance(handle).mf.getWorker(worker);
    return target.scheduled({ cron, scheduledTime: new Date(scheduledTime) });
  },

  async d1({ handle, worker, binding, sql, params }) {
    return inspect(handle, worker, "d1", binding, { sql, params: params ?? [] });
  },

  async kv({ handle, worker, binding, action, key, value, options }) {
    return inspect(handle, worker, "kv", binding, { action, key: key ?? "", value, options: options ?? {} });
  },

  async r2({ handle, worker, binding, action, key, body }) {
    return inspect(handle, worker, "r2", binding, { action, key: key ?? "", body });
  },

  async kvOperations({ handle, worker, binding, reset }) {
    const { mf } = instance(handle);
    const response = await mf.dispatchFetch("http://inspector/", {
      method: "POST",
      headers: { [ROUTE_OVERRIDE]: INSPECTOR },
      body: JSON.stringify({ kind: "counts", label: `${worker}/${binding}`, reset }),
    });
    const reply = await response.json();
    if (!reply.ok) throw new Error(reply.error);
    return reply.result;
  },

  async blocked({ handle }) {
    return instance(handle).blocked;
  },

  async dispose({ handle }) {
    const { mf } = instance(handle);
    instances.delete(handle);
    await mf.dispose();
    return null;
  },
};

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  let request;
  try {
    request = JSON.parse(line);
    const op = ops[request.op];
    if (!op) throw new Error(`unknown op ${request.op}`);
    send({ id: request.id, ok: true, result: (await op(request)) ?? null });
  } catch (err) {
    send({ id: request?.id ?? null, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}${err.cause ? ` (${err.cause})` : ""}` : String(err) });
  }
});
lines.on("close", async () => {
  await Promise.allSettled([...instances.values()].map(({ mf }) => mf.dispose()));
  process.exit(0);
});
