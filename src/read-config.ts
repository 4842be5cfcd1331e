/**
 * For entry points only: loads `.env` when present (variables already set win), parses the
 * configuration, and exits with EX_CONFIG (78) and a message naming each bad variable otherwise.
 */
import { existsSync } from 'node:fs';
import { type Config, ConfigError, loadConfig } from './config.ts';

export function readConfigOrExit(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78);
    }
    throw err;
  }
}
