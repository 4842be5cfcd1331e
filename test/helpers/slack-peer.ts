/**
 * A local Slack: incoming webhooks (`POST /services/...`, answered with Slack's plain-text codes)
 * and the Web API methods the channel uses, checking the bot token, answering errors as Slack does
 * (HTTP 200 with `{ok: false, error}`, HTTP 429 with Retry-After for `ratelimited`):
 * files.getUploadURLExternal (form-encoded), the upload URL (the bytes, length checked),
 * files.completeUploadExternal (JSON: only uploaded files, shared to `channel_id`), chat.postMessage.
 *
 * Scripts: `fail('files.completeUploadExternal', {error: 'channel_not_found'})`,
 * `failWebhook({status: 429, text: 'rate_limited', headers: {'retry-after': '7'}})`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface SlackFailure {
  error?: string;
  status?: number;
  headers?: Record<string, string>;
  /** a webhook's plain-text answer */
  text?: string;
}

export interface SharedFiles {
  channel_id: string;
  initial_comment: string;
  files: { id: string; title?: string; filename: string; bytes: Buffer }[];
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain' : 'application/json; charset=utf-8',
    ...headers,
  });
  res.end(text);
}

export async function startSlackPeer(t: TestContext, opts: { botToken: string }) {
  const webhookPosts: { path: string; body: { text?: string; blocks?: unknown[] } }[] = [];
  const pending = new Map<string, { filename: string; length: number; bytes?: Buffer }>();
  const shared: SharedFiles[] = [];
  const posts: Record<string, unknown>[] = [];
  const calls: string[] = [];
  const failures = new Map<string, SlackFailure[]>();
  const problems: string[] = [];
  let base = '';

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const path = req.url ?? '/';
    const method = path.startsWith('/api/')
      ? path.slice(5)
      : path.startsWith('/services/')
        ? 'webhook'
        : path;
    calls.push(method);
    const failure = failures.get(method.startsWith('/upload/') ? 'upload' : method)?.shift();

    if (method === 'webhook') {
      if (failure)
        return send(res, failure.status ?? 400, failure.text ?? 'invalid_payload', failure.headers);
      try {
        webhookPosts.push({ path, body: JSON.parse(raw.toString('utf8')) });
      } catch {
        return send(res, 400, 'invalid_payload');
      }
      return send(res, 200, 'ok');
    }
    if (path.startsWith('/upload/')) {
      if (failure) return send(res, failure.status ?? 500, failure.text ?? 'error', failure.headers);
      const entry = pending.get(path.slice('/upload/'.length));
      if (!entry) return send(res, 404, 'not found');
      if (raw.length !== entry.length) problems.push(`upload: ${raw.length} bytes, ${entry.length} declared`);
      entry.bytes = raw;
      return send(res, 200, `OK - ${raw.length}`);
    }
    if (req.headers.authorization !== `Bearer ${opts.botToken}`) {
      return send(res, 200, { ok: false, error: req.headers.authorization ? 'invalid_auth' : 'not_authed' });
    }
    if (failure) {
      const status = failure.status ?? (failure.error === 'ratelimited' ? 429 : 200);
      return send(res, status, { ok: false, error: failure.error ?? 'internal_error' }, failure.headers);
    }
    if (method === 'files.getUploadURLExternal') {
      if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
        problems.push('getUploadURLExternal: not form-encoded');
        return send(res, 200, { ok: false, error: 'invalid_arguments' });
      }
      const form = new URLSearchParams(raw.toString('utf8'));
      const filename = form.get('filename');
      const length = Number(form.get('length'));
      if (!filename || !Number.isInteger(length) || length <= 0) {
        return send(res, 200, { ok: false, error: 'invalid_arguments' });
      }
      const fileId = `F${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
      pending.set(fileId, { filename, length });
      return send(res, 200, { ok: true, upload_url: `${base}/upload/${fileId}`, file_id: fileId });
    }
    const body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
    if (method === 'files.completeUploadExternal') {
      const files = (body.files ?? []) as { id: string; title?: string }[];
      const entries = files.map((f) => ({ ...f, entry: pending.get(f.id) }));
      if (files.length === 0 || entries.some((e) => !e.entry?.bytes)) {
        return send(res, 200, { ok: false, error: 'file_not_found' });
      }
      if (typeof body.channel_id !== 'string') problems.push('completeUploadExternal: no channel_id');
      shared.push({
        channel_id: String(body.channel_id),
        initial_comment: String(body.initial_comment ?? ''),
        files: entries.map((e) => ({
          id: e.id,
          title: e.title,
          filename: e.entry!.filename,
          bytes: e.entry!.bytes!,
        })),
      });
      for (const f of files) pending.delete(f.id);
      return send(res, 200, { ok: true, files: files.map((f) => ({ id: f.id, title: f.title })) });
    }
    if (method === 'chat.postMessage') {
      posts.push(body);
      return send(res, 200, { ok: true, channel: body.channel, ts: `1733212800.00${posts.length}` });
    }
    return send(res, 200, { ok: false, error: 'unknown_method' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    apiUrl: `${base}/api`,
    webhookUrl: `${base}/services/T0001/B0002/XXXXsecretXXXXhookXXXX`,
    webhookPosts,
    shared,
    posts,
    calls,
    problems,
    fail(method: string, ...f: SlackFailure[]) {
      failures.set(method, [...(failures.get(method) ?? []), ...f]);
    },
  };
}
