import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';

/** The OpenAPI document as committed: built from a placeholder configuration, no I/O. */
export async function renderOpenApi(): Promise<string> {
  const config = loadConfig({
    UPSTREAM_URL: 'http://127.0.0.1:9',
    API_KEYS: 'openapi-placeholder:viewer',
    LOG_LEVEL: 'silent',
  });
  const app = await buildApp(config, { logger: false });
  await app.ready();
  const doc = app.swagger();
  await app.close();
  return `${JSON.stringify(doc, null, 2)}\n`;
}
