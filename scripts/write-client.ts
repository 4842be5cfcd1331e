/** Writes client/schema.d.ts from openapi/openapi.json (npm run client; run `npm run openapi` first). */
import { writeFile } from 'node:fs/promises';
import { CLIENT_SCHEMA_PATH, renderClientSchema } from './client-schema.ts';

await writeFile(CLIENT_SCHEMA_PATH, await renderClientSchema());
console.log(`wrote ${CLIENT_SCHEMA_PATH}`);
