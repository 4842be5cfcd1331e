/** Rendering on worker threads gives the same bytes as rendering in place, and survives failures. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { renderPdf } from '../src/services/reports/pdf/pdf-renderer.ts';
import { createRenderPool } from '../src/services/reports/render-pool.ts';
import type { ReportDocument } from '../src/services/reports/report-types.ts';
import { renderXlsx } from '../src/services/reports/xlsx/xlsx-renderer.ts';

const doc: ReportDocument = {
  type: 'daily',
  title: 'Daily sales report',
  periodLabel: 'Friday 20 November 2026',
  period: { from: '2026-11-20', to: '2026-11-20' },
  scope: 'All stores',
  dataAsOf: '2026-11-21T01:00:00.000Z',
  complete: true,
  producedAt: '2026-11-21T01:00:00.000Z',
  sections: [
    {
      kind: 'table',
      title: 'Sales by store',
      columns: [
        { key: 'name', title: 'Store', type: 'text' },
        { key: 'revenue', title: 'Revenue', type: 'money' },
        { key: 'growth', title: 'Growth', type: 'growth' },
      ],
      rows: Array.from({ length: 40 }, (_, i) => ({
        name: `Store ${i}`,
        revenue: 1000 + i * 13.37,
        growth: i % 3 ? -2.5 : 4,
      })),
    },
  ],
};

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('the render pool gives the bytes rendering in place gives, concurrently, and survives a failure', async (t) => {
  const pool = createRenderPool({ threads: 2 });
  t.after(() => pool.close());
  const [pdf, xlsx, pdf2] = await Promise.all([
    pool.render('pdf', doc),
    pool.render('xlsx', doc),
    pool.render('pdf', doc),
  ]);
  assert.equal(sha(pdf), sha(await renderPdf(doc)));
  assert.equal(sha(pdf2), sha(pdf));
  assert.equal(sha(xlsx), sha(await renderXlsx(doc)));
  const broken = {
    ...doc,
    sections: [{ kind: 'table', title: 'x', columns: null }],
  } as unknown as ReportDocument;
  await assert.rejects(pool.render('pdf', broken));
  assert.equal(sha(await pool.render('pdf', doc)), sha(pdf), 'still works after a failed task');
  await pool.close();
  await assert.rejects(pool.render('pdf', doc), /closed/);
});
