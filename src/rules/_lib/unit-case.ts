// Hand-written exchanges for a rule test's extra cases: a request and a
// response in fixture-file form, labelled with nothing (the extra case says
// what the rule must conclude).
import { exchangeFromFixtureJson, type Fixture } from './fixtures.ts';

/** The request and response of a fixture file (headers as an object, "body" as text). */
export type UnitExchange = {
  request?: { method?: string; url: string; headers?: Record<string, string> };
  response: { status: number; headers?: Record<string, string>; body?: string };
};

export function unitCase(name: string, exchange: UnitExchange): Fixture {
  return {
    file: name,
    source: 'unit case',
    label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
    exchange: exchangeFromFixtureJson(exchange, name),
  };
}
