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

/**
 * Unit cases against a JSON API that a test calls with one method and credential: each names the URL,
 * the status, the body (serialised, sent as application/json) and any further response headers.
 */
export function jsonApiCases(
  method: string,
  credential: Record<string, string>,
): (name: string, url: string, status: number, body: unknown, headers?: Record<string, string>) => Fixture {
  return (name, url, status, body, headers = {}) =>
    unitCase(name, {
      request: { method, url, headers: credential },
      response: { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) },
    });
}

/** A unit case that is an answer alone, with no request recorded. */
export function responseCase(name: string, status: number, headers: Record<string, string>, body: string): Fixture {
  return unitCase(name, { response: { status, headers, body } });
}

/** Unit cases that all answer one request: each names the status, the response headers and the body. */
export function requestCases(
  request: NonNullable<UnitExchange['request']>,
): (name: string, status: number, headers: Record<string, string>, body?: string) => Fixture {
  return (name, status, headers, body = '') => unitCase(name, { request, response: { status, headers, body } });
}
