/**
 * Public holidays of HOLIDAYS_COUNTRY (date-holidays): left out of baselines, and an anomaly on one
 * is labelled with its name. `FR`, or a country with a state or region: `DE-BY`, `US-CA`.
 */
import { createRequire } from 'node:module';
import { parseDay } from './calendar.ts';

type HolidaysClass = typeof import('date-holidays').default;
let loaded: HolidaysClass | undefined;
/** Loaded on first use: its calendars take about half a second to load, for every process otherwise. */
function holidaysClass(): HolidaysClass {
  loaded ??= createRequire(import.meta.url)('date-holidays') as HolidaysClass;
  return loaded;
}

export type HolidayLookup = (day: number) => string | undefined;

export const noHolidays: HolidayLookup = () => undefined;

export function isKnownHolidayCountry(code: string): boolean {
  const [country, state] = code.split('-');
  if (!country) return false;
  const Holidays = holidaysClass();
  const h = new Holidays();
  const countries = h.getCountries();
  if (!countries[country.toUpperCase()]) return false;
  if (state === undefined) return true;
  const states = h.getStates(country.toUpperCase()) ?? {};
  return Boolean(states[state.toUpperCase()]);
}

/** Public holidays only (bank holidays and observances are business days for a shop). */
export function holidayLookup(code: string | undefined): HolidayLookup {
  if (!code) return noHolidays;
  const [country, state] = code.toUpperCase().split('-');
  const Holidays = holidaysClass();
  const h = state ? new Holidays(country!, state) : new Holidays(country!);
  const years = new Map<number, Map<number, string>>();
  return (day) => {
    const year = new Date(day * 86_400_000).getUTCFullYear();
    let days = years.get(year);
    if (!days) {
      days = new Map();
      for (const x of h.getHolidays(year) || []) {
        if (x.type !== 'public') continue;
        const d = parseDay(x.date.slice(0, 10));
        if (d !== undefined && !days.has(d)) days.set(d, x.name);
      }
      years.set(year, days);
    }
    return days.get(day);
  };
}
