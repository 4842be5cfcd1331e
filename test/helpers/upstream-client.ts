/** Our upstream client with small timeouts and quick, deterministic backoff, for tests. */
import pino from 'pino';
import { createUpstreamClient, type UpstreamConfig } from '../../src/clients/upstream-client.ts';

const logger = pino({ level: 'silent' });

export function testClient(url: string, overrides: Partial<UpstreamConfig> = {}) {
  return createUpstreamClient({
    config: {
      url,
      token: undefined,
      connections: 4,
      connectTimeoutMs: 500,
      headersTimeoutMs: 1_000,
      bodyTimeoutMs: 1_000,
      retries: 3,
      retryBaseMs: 5,
      retryMaxMs: 2_000,
      pageSize: 2,
      pageConcurrency: 2,
      // Off unless a test is about it: these tests count attempts against failing servers.
      breakerThreshold: 1_000,
      breakerOpenMs: 5_000,
      ...overrides,
    },
    logger,
    random: () => 0.5,
  });
}
