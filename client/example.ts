/**
 * Sample usage of the typed client, type-checked by `npm test` (tsc covers client/) and run by
 * test/client.test.ts against the real API: if the API changes shape, this stops compiling.
 */
import { createSalesflowClient } from './index.ts';

export async function storesAndRevenue(baseUrl: string, apiKey: string) {
  const api = createSalesflowClient({ baseUrl, apiKey });

  const stores = await api.GET('/api/v1/catalog/stores', { params: { query: { limit: 10 } } });
  if (stores.error) throw new Error(`stores: ${stores.error.detail ?? stores.error.title}`);
  const names: string[] = stores.data.items.map((s) => `${s.name} (${s.city})`);

  const sales = await api.GET('/api/v1/analytics/sales', {
    params: { query: { from: '2026-06-01', to: '2026-06-07', groupBy: 'store' } },
  });
  if (sales.error) throw new Error(`sales: ${sales.error.detail ?? sales.error.title}`);
  const revenue: number = sales.data.kpis.revenue;

  const status = await api.GET('/api/v1/reports/status/{jobId}', {
    params: { path: { jobId: 'rep-nosuchjob0000' } },
  });
  const notFound: number | undefined = status.error?.status;

  return { names, revenue, notFound, total: stores.data.total };
}
