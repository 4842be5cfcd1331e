/**
 * One import in a process of its own, so that its peak RSS is the import's: the real app (embedded
 * mode) uploads a file, reads its result back and downloads its error workbook, then prints one
 * JSON line with the answers' sizes and statuses and the process's peak RSS. A queued import is
 * waited for (two minutes at most).
 * argv: <file> <upstream url> <exports dir> <query string of the upload> [JSON of more environment]
 */
import { readFile } from 'node:fs/promises';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { KEYS, testEnv } from './app.ts';

const [file = '', upstreamUrl = '', exportsDir = '', query = '', env = '{}'] = process.argv.slice(2);
const config = loadConfig(
  testEnv({
    UPSTREAM_URL: upstreamUrl,
    EXPORTS_DIR: exportsDir,
    ...(JSON.parse(env) as Record<string, string>),
  }),
);
const app = await buildApp(config, { logger: false });
await app.ready();
const headers = { 'x-api-key': KEYS.admin };
const boundary = 'ImportChildBoundary';
const payload = Buffer.concat([
  Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="long.xlsx"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  ),
  await readFile(file),
  Buffer.from(`\r\n--${boundary}--\r\n`),
]);
const upload = await app.inject({
  method: 'POST',
  url: `/api/v1/excel/upload?${query}`,
  headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
  payload,
});
const body = upload.json() as { importId?: string };
// a queued import runs in this process (embedded mode): its result is there once it has finished
let result: Awaited<ReturnType<typeof app.inject>> | undefined;
for (let polls = 0; body.importId && polls < 1200; polls++) {
  result = await app.inject({ url: `/api/v1/excel/imports/${body.importId}`, headers });
  if (!['queued', 'running'].includes((result.json() as { status?: string }).status ?? '')) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const errors = body.importId
  ? await app.inject({ url: `/api/v1/excel/imports/${body.importId}/errors.xlsx`, headers })
  : undefined;
await app.close();
process.stdout.write(
  `${JSON.stringify({
    upload: { status: upload.statusCode, bytes: upload.rawPayload.length },
    body: upload.body.length < 100_000 ? body : 'too long to print',
    result: result && {
      status: result.statusCode,
      bytes: result.rawPayload.length,
      body: result.rawPayload.length < 100_000 ? result.json() : 'too long to print',
    },
    errors: errors && { status: errors.statusCode, bytes: errors.rawPayload.length },
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  })}\n`,
);
