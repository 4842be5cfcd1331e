/**
 * One slice's report for one period: the document built once from the analytics services (the
 * same figures the API answers), rendered once per format, and the message parts every recipient
 * of the slice shares (headline KPIs, files, signed link).
 */
import type { ReportFilters } from '../../../models/reports.ts';
import type { ScheduleReportType, Slice } from '../../../models/schedules.ts';
import { formatterFor } from '../../reports/pdf/format.ts';
import type { ReportBuilders } from '../../reports/report-builders.ts';
import type { ReportService } from '../../reports/report-service.ts';
import type { KpiSection, ReportDocument } from '../../reports/report-types.ts';
import type { DeliveryFile, HeadlineKpi } from '../channels/channel-types.ts';
import { friendlyFileName, sliceFileName } from './run-plan-fns.ts';

const CONTENT_TYPES = {
  pdf: 'application/pdf',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

/** The KPIs a message leads with, in this order when the report has them. */
const HEADLINE = ['Revenue', 'Orders', 'Units', 'Average order value'];

export interface SliceReportDeps {
  builders: Pick<ReportBuilders, 'build'>;
  reports: Pick<ReportService, 'renderDocumentTo' | 'fileLink'>;
  display: { currency: string; locale: string };
  publicUrl: string;
  /** called once per file actually rendered (not for a file a resumed run finds) */
  onRender?: () => void;
}

export interface SliceDocument {
  doc: ReportDocument;
  complete: boolean;
  /** no sales at all in the period */
  empty: boolean;
  headline: HeadlineKpi[];
}

function kpisOf(doc: ReportDocument): KpiSection | undefined {
  return doc.sections.find((s): s is KpiSection => s.kind === 'kpis');
}

export function sliceReportFactory(deps: SliceReportDeps) {
  const fmt = formatterFor(deps.display);

  function headline(doc: ReportDocument): HeadlineKpi[] {
    const section = kpisOf(doc);
    if (!section) return [];
    const items = HEADLINE.map((label) => section.items.find((i) => i.label === label)).filter(
      (i) => i !== undefined,
    );
    return items.map((item) => {
      const value =
        item.type === 'money' && typeof item.value === 'number'
          ? fmt.currency(item.value)
          : fmt.cell(item.value, item.type).text;
      const growth = item.growth[0] ?? null;
      if (growth === null || !Number.isFinite(growth)) return { label: item.label, value };
      const shown = Math.round(growth * 10) / 10;
      const direction = shown > 0 ? 'up' : shown < 0 ? 'down' : 'flat';
      const text = `${shown > 0 ? '+' : ''}${shown.toFixed(1)}% ${section.against[0] ?? ''}`.trim();
      return { label: item.label, value, change: { text, direction } as const };
    });
  }

  return {
    /** Builds the slice's document for the period (no file yet): the freshness gate reads it. */
    async document(
      type: ScheduleReportType,
      reportDate: string,
      filters: ReportFilters | undefined,
      producedAt: string,
    ): Promise<SliceDocument> {
      const doc = await deps.builders.build({ type, date: reportDate, filters, producedAt });
      const revenue = kpisOf(doc)?.items.find((i) => i.label === 'Revenue');
      const orders = kpisOf(doc)?.items.find((i) => i.label === 'Orders');
      const empty = !revenue?.value && !orders?.value;
      return { doc, complete: doc.complete, empty, headline: headline(doc) };
    },

    /** Renders the document once per format into files named for (schedule, period, slice). */
    async files(
      d: SliceDocument,
      at: { scheduleId: string; period: string; sliceKey: string; slice: Slice | undefined },
      format: 'pdf' | 'xlsx' | 'both',
    ): Promise<{ files: DeliveryFile[]; link: { url: string; expiresAt: string } }> {
      const formats = format === 'both' ? (['pdf', 'xlsx'] as const) : [format];
      const files: DeliveryFile[] = [];
      let first: string | undefined;
      for (const f of formats) {
        const name = sliceFileName(at.scheduleId, at.period, at.sliceKey, f);
        const out = await deps.reports.renderDocumentTo(name, f, d.doc);
        if (out.rendered) deps.onRender?.();
        first ??= name;
        files.push({
          filename: friendlyFileName(d.doc.type, at.period, at.slice, f),
          contentType: CONTENT_TYPES[f],
          path: out.path,
          bytes: out.bytes,
        });
      }
      const link = deps.reports.fileLink(first!);
      return { files, link: { url: `${deps.publicUrl}${link.url}`, expiresAt: link.expiresAt } };
    },
  };
}

export type SliceReport = ReturnType<typeof sliceReportFactory>;
