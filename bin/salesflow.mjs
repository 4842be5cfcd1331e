#!/usr/bin/env node
// The `salesflow` command: runs src/cli.ts through tsx (a runtime dependency, as for npm start).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
