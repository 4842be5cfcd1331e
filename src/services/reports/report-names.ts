/**
 * What a report request covers, worked out from the request and today: the business days it reads
 * (what its data version is taken over) and the name its file is downloaded under.
 */
import { formatDay, isoWeekKey, monthKey, parseDay, shiftYears, weekday } from '../../lib/calendar.ts';
import type { ReportJobRequest } from '../../models/reports.ts';

/** The business days a report reads, for its data version (what makes two requests the same). */
export function reportDays(request: ReportJobRequest, today: number): { from: number; to: number } {
  const ref = request.date ? parseDay(request.date)! : today - 1;
  switch (request.type) {
    case 'daily':
      return { from: ref - 35, to: ref }; // the 30-day chart's lead-in and the 4 weeks of comparison
    case 'weekly': {
      const monday = ref - ((weekday(ref) + 6) % 7) - 7;
      return { from: monday - 14, to: monday + 6 };
    }
    case 'monthly': {
      const d = new Date(ref * 86_400_000);
      const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1) / 86_400_000;
      return {
        from: shiftYears(first, -1) - 6,
        to: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 0) / 86_400_000,
      };
    }
    default: {
      const to = request.to ? parseDay(request.to)! : today - 1;
      const from = request.from ? parseDay(request.from)! : to - 29;
      return { from: request.type === 'sales_stock' ? from - (to - from + 1) : from, to };
    }
  }
}

/** The period of a report as its file name says it: a day, an ISO week, a month, or from_to. */
function periodKey(request: ReportJobRequest, today: number): string {
  const ref = request.date ? parseDay(request.date)! : today - 1;
  switch (request.type) {
    case 'daily':
      return formatDay(ref);
    case 'weekly':
      return isoWeekKey(ref - ((weekday(ref) + 6) % 7) - 7);
    case 'monthly': {
      const d = new Date(ref * 86_400_000);
      return monthKey(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1) / 86_400_000);
    }
    default: {
      const { from, to } = reportDays({ ...request, type: 'sales_lines' }, today);
      return `${formatDay(from)}_${formatDay(to)}`;
    }
  }
}

/** The slice a report covers, for its file name: `all-stores`, `store-7`, `region-north-category-tea`… */
function scopeKey(filters: ReportJobRequest['filters']): string {
  const parts: string[] = [];
  for (const [key, values] of Object.entries(filters ?? {}) as [string, string[] | undefined][]) {
    if (!values?.length) continue;
    const name = key === 'storeId' ? 'store' : key === 'productId' ? 'product' : key;
    const shown = values.slice(0, 3).join('-') + (values.length > 3 ? `-and-${values.length - 3}-more` : '');
    parts.push(`${name}-${shown}`);
  }
  const text = (parts.join('-') || 'all-stores')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '') // Île → Ile: accents dropped, letters kept
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-');
  return text.replace(/^-|-$/g, '').slice(0, 80) || 'filtered';
}

/** e.g. `salesflow-daily-2026-12-02-store-7.pdf`: type, period and scope, never "latest". */
export function downloadName(request: ReportJobRequest, today: number): string {
  const type = request.type.replace('_', '-');
  return `salesflow-${type}-${periodKey(request, today)}-${scopeKey(request.filters)}.${request.format}`;
}
