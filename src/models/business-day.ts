/** The one schema of a business day accepted from a client: a real date within SUPPORTED_DAYS. */
import { z } from 'zod';
import { isSupportedDay, parseDay, SUPPORTED_DAYS } from '../lib/calendar.ts';

export const BusinessDay = z.iso
  .date()
  .refine(
    (text) => {
      const day = parseDay(text);
      // An impossible date (2026-02-30) is already refused by z.iso.date, with its own message.
      return day === undefined || isSupportedDay(day);
    },
    { message: `must be between ${SUPPORTED_DAYS.from} and ${SUPPORTED_DAYS.to}` },
  )
  .describe(`a business day, YYYY-MM-DD, from ${SUPPORTED_DAYS.from} to ${SUPPORTED_DAYS.to}`);
