// The render thread's entry point. Worker threads do not inherit the parent's module hooks on
// Node 20, so this plain JavaScript file registers tsx before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./render-worker.ts');
