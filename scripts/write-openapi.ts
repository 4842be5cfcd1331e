/** Writes openapi/openapi.json from the routes' zod schemas (npm run openapi). */
import { writeFileSync } from 'node:fs';
import { renderOpenApi } from './openapi-document.ts';

writeFileSync('openapi/openapi.json', await renderOpenApi());
console.log('wrote openapi/openapi.json');
