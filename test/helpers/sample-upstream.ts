/**
 * Plain HTTP against the sample upstream (fetch, no client of ours), so that its answers are
 * checked as sent, and pages of `GET /sales` with their bookkeeping asserted on the way.
 */
import assert from 'node:assert/strict';
import { UpstreamSalesPage } from '../../src/models/upstream.ts';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export async function call(base: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(base + path, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return call(base, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

export type RawLine = Record<string, unknown>;

export function linesOf(json: unknown): RawLine[] {
  return (json as { content: RawLine[] }).content;
}

/** Every line of a window, page after page, checking the page bookkeeping on the way. */
export async function pullWindow(base: string, from: string, to: string, size: number) {
  const lines: RawLine[] = [];
  let totalElements = -1;
  for (let page = 0; ; page++) {
    const { status, json } = await call(base, `/sales?from=${from}&to=${to}&page=${page}&size=${size}`);
    assert.equal(status, 200);
    const parsed = UpstreamSalesPage.parse(json);
    assert.equal(parsed.number, page);
    assert.equal(parsed.size, size);
    if (totalElements < 0) totalElements = parsed.totalElements;
    assert.equal(parsed.totalElements, totalElements, 'totalElements is stable across pages');
    assert.equal(parsed.totalPages, Math.ceil(totalElements / size));
    assert.equal(parsed.last, page >= parsed.totalPages - 1);
    lines.push(...linesOf(json));
    if (parsed.last) break;
    assert.equal(parsed.content.length, size, 'only the last page may be short');
  }
  return { lines, totalElements };
}
