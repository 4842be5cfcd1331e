/** Report files on disk and a DeliveryMessage around them, for the channel tests. */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import ExcelJS from 'exceljs';
import type { DeliveryFile, DeliveryMessage } from '../../src/services/delivery/channels/channel-types.ts';

export const PDF_BYTES = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n' +
    'trailer<</Root 1 0 R>>\n%%EOF\n',
);

export async function reportFiles(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'salesflow-delivery-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pdfPath = join(dir, 'daily-2026-12-02-store-7.pdf');
  await writeFile(pdfPath, PDF_BYTES);
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('KPIs');
  ws.addRow(['KPI', 'Value']);
  ws.addRow(['Revenue', 12340.5]);
  const xlsxPath = join(dir, 'daily-2026-12-02-store-7.xlsx');
  await wb.xlsx.writeFile(xlsxPath);
  const pdf: DeliveryFile = {
    filename: 'daily-2026-12-02-store-7.pdf',
    contentType: 'application/pdf',
    path: pdfPath,
    bytes: (await stat(pdfPath)).size,
  };
  const xlsx: DeliveryFile = {
    filename: 'daily-2026-12-02-store-7.xlsx',
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    path: xlsxPath,
    bytes: (await stat(xlsxPath)).size,
  };
  return { dir, pdf, xlsx };
}

export function deliveryMessage(files: DeliveryFile[], over: Partial<DeliveryMessage> = {}): DeliveryMessage {
  return {
    key: 'sched-1:2026-12-02:anna@example.com:email',
    recipient: { address: 'anna@example.com', name: 'Anna Martin' },
    subject: 'Daily sales 2026-12-02 · Store 7 (Lyon)',
    headline: [
      { label: 'Revenue', value: '€12,340.50', change: { text: '+4.2% vs last week', direction: 'up' } },
      { label: 'Orders', value: '318', change: { text: '-3.1% vs last week', direction: 'down' } },
      { label: 'Average basket', value: '€38.81', change: { text: '0.0% vs last week', direction: 'flat' } },
    ],
    text: 'Best seller: Espresso beans 1 kg (42 units).',
    files,
    link: {
      url: 'https://reports.example.com/api/v1/reports/job-1/download?expires=1&sig=abc',
      expiresAt: '2026-12-05T07:00:00Z',
    },
    attach: 'auto',
    ...over,
  };
}

/** Rejects with the ChannelError of a failed send (fails the test when the send succeeds). */
export async function sendError(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return err as import('../../src/services/delivery/channels/channel-types.ts').ChannelError;
  }
  throw new Error('the send was expected to fail');
}

export const signal = () => new AbortController().signal;
