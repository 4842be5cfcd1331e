/**
 * A rendering thread: PDF and XLSX rendering is CPU-bound (hundreds of ms for a daily report), so it
 * runs here, off the event loop that serves requests and renews the queue's job locks.
 */
import { parentPort } from 'node:worker_threads';
import { renderPdf } from './pdf/pdf-renderer.ts';
import type { ReportDocument } from './report-types.ts';
import { renderXlsx } from './xlsx/xlsx-renderer.ts';

export interface RenderTask {
  id: number;
  format: 'pdf' | 'xlsx';
  doc: ReportDocument;
}

export type RenderReply = { id: number; bytes: Uint8Array } | { id: number; error: string };

parentPort?.on('message', async (task: RenderTask) => {
  try {
    const buffer = task.format === 'pdf' ? await renderPdf(task.doc) : await renderXlsx(task.doc);
    // A fresh, exactly sized copy can be transferred instead of cloned.
    const bytes = new Uint8Array(buffer.byteLength);
    bytes.set(buffer);
    parentPort?.postMessage({ id: task.id, bytes } satisfies RenderReply, [bytes.buffer]);
  } catch (err) {
    parentPort?.postMessage({
      id: task.id,
      error: err instanceof Error ? err.message : String(err),
    } satisfies RenderReply);
  }
});
