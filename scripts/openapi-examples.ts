/**
 * Sends every operation of the OpenAPI document with its own examples, as "Try it out" in Swagger UI
 * would, and reports the status of each. What a user of Swagger UI does by hand, this does too:
 * - one API key (an admin's) for every call;
 * - a path or query parameter that names something made earlier (a report job, its file, an import,
 *   a silence, an alert the check found) takes the value from the answer that made it, instead of
 *   the document's placeholder; a job is followed at its `statusUrl` until it is done, before
 *   anything downloads it;
 * - a multipart upload gets a small CSV file (Swagger UI cannot prefill a file), with the example
 *   values of the other form fields.
 * Everything else (query parameters, JSON bodies) is the document's example, or nothing when the
 * parameter is optional and has none.
 */

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  example?: unknown;
  schema?: { examples?: unknown[]; example?: unknown };
}

interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: {
    content: Record<
      string,
      { example?: unknown; examples?: Record<string, { value: unknown }>; schema?: Json }
    >;
  };
}

export interface ExampleResult {
  operationId: string;
  method: string;
  url: string;
  status: number;
  /** the start of the answer when it is not 2xx */
  detail?: string;
}

/** A products file the upload example sends: one valid row. */
const UPLOAD_CSV = 'sku;name;category;price\nDEMO-TEA-1;Demo tea;Drinks;3,50\n';

function exampleOf(p: Parameter): unknown {
  return p.example ?? p.schema?.example ?? p.schema?.examples?.[0];
}

/** Values that answers gave, by the parameter names that refer to them. */
function harvest(json: unknown, found: Map<string, string>): void {
  if (json === null || typeof json !== 'object') return;
  const o = json as Json;
  if (typeof o.jobId === 'string') found.set('jobId', o.jobId);
  if (typeof o.importId === 'string') found.set('importId', o.importId);
  if (typeof o.id === 'string' && /^sch-/.test(o.id)) found.set('id', o.id);
  if (typeof o.runId === 'string') found.set('runId', o.runId);
  // a run's recipients and the ledger's listing name deliveries
  for (const list of [o.recipients, o.items])
    if (Array.isArray(list))
      for (const item of list as Json[])
        if (typeof item?.deliveryId === 'string') found.set('deliveryId', item.deliveryId);
        else if (typeof item?.id === 'string' && /^dlv-/.test(item.id)) found.set('deliveryId', item.id);
  if (typeof o.id === 'string' && /^sil-/.test(o.id)) found.set('silenceId', o.id);
  // an alert check's answer names the alerts it changed
  const alert = Array.isArray(o.alerts)
    ? (o.alerts as Json[]).find((a) => /^alr-/.test(String(a.id)))
    : undefined;
  if (alert && !found.has('alertId')) found.set('alertId', String(alert.id));
  const file = o.file as Json | undefined;
  if (file && typeof file.name === 'string' && /^rep-/.test(file.name)) found.set('file', file.name);
}

async function waitForJob(base: string, statusUrl: string, headers: Record<string, string>) {
  for (let i = 0; i < 600; i++) {
    const res = await fetch(base + statusUrl, { headers });
    const body = (await res.json()) as Json;
    const state = String(body.state ?? body.status);
    if (!['queued', 'active', 'running', 'working'].includes(state)) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${statusUrl} did not finish`);
}

/** Sends each operation's example to the API at `base` (e.g. http://127.0.0.1:8080). */
export async function sendExamples(base: string, apiKey: string): Promise<ExampleResult[]> {
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, Operation>>;
  };
  const auth = { 'x-api-key': apiKey };
  const found = new Map<string, string>();
  const results: ExampleResult[] = [];

  // In document order, deletions last: what a user tries out on a schedule, a rule or a silence
  // (its runs, its alerts) comes before they delete it.
  const all = Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, op]) => ({ path, method, op })),
  );
  const ordered = [...all.filter((o) => o.method !== 'delete'), ...all.filter((o) => o.method === 'delete')];
  for (const { path, method, op } of ordered) {
    let url = path;
    const query = new URLSearchParams();
    for (const p of op.parameters ?? []) {
      const value = found.get(p.name) ?? exampleOf(p);
      if (value === undefined) {
        if (p.required) throw new Error(`${op.operationId}: no example for the required ${p.name}`);
        continue;
      }
      if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(String(value)));
      else if (p.in === 'query') query.set(p.name, String(value));
    }
    if (query.size > 0) url += `?${query}`;

    const init: RequestInit = { method: method.toUpperCase(), headers: { ...auth } };
    const content = op.requestBody?.content ?? {};
    if (content['application/json']) {
      // as Swagger UI does: the example, or the first of the named examples
      const media = content['application/json'];
      const example = media.example ?? Object.values(media.examples ?? {})[0]?.value;
      if (example === undefined) throw new Error(`${op.operationId}: the JSON body has no example`);
      init.headers = { ...auth, 'content-type': 'application/json' };
      init.body = JSON.stringify(example);
    } else if (content['multipart/form-data']) {
      const props = (content['multipart/form-data'].schema?.properties ?? {}) as Record<string, Json>;
      const form = new FormData();
      for (const [name, schema] of Object.entries(props)) {
        const example = (schema.examples as unknown[] | undefined)?.[0];
        if (name !== 'file' && example !== undefined) form.set(name, String(example));
      }
      form.set('file', new Blob([UPLOAD_CSV], { type: 'text/csv' }), 'products.csv');
      init.body = form;
    }

    const res = await fetch(base + url, init);
    const text = Buffer.from(await res.arrayBuffer()).toString('utf8');
    const result: ExampleResult = {
      operationId: op.operationId,
      method: init.method!,
      url,
      status: res.status,
    };
    if (res.status < 200 || res.status > 299) result.detail = text.slice(0, 300);
    results.push(result);
    if (!(res.headers.get('content-type') ?? '').includes('json')) continue;
    const json = JSON.parse(text) as Json;
    harvest(json, found);
    if (typeof json.statusUrl === 'string') harvest(await waitForJob(base, json.statusUrl, auth), found);
  }
  return results;
}
