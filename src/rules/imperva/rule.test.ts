import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson } from '../_lib/fixtures.ts';

// https://github.com/0xhaggis/Imperva_gzip_bypass/blob/main/demo.md, 'With the WAF
// bypass': the IIS origin's own answer passed back through Imperva (headers verbatim,
// cookie values redacted there as xxxx/redacted; body: its first line). Imperva's marks are on it, but
// Imperva did not refuse anything, so the rule must not name it as the producer.
const passedThrough = {
  request: { method: 'POST', url: 'https://images.example.com/HTTPIntNet.aspx', headers: {} },
  response: {
    status: 200,
    statusText: 'OK',
    httpVersion: 'HTTP/2',
    headers: [
      { name: 'Cache-Control', value: 'private' },
      { name: 'Content-Type', value: 'text/xml; charset=utf-8' },
      { name: 'Server', value: 'Microsoft-IIS/8.5' },
      { name: 'X-Aspnet-Version', value: '4.0.30319' },
      { name: 'X-Powered-By', value: 'ASP.NET' },
      { name: 'Date', value: 'Wed, 15 Dec 2021 18:25:06 GMT' },
      { name: 'Set-Cookie', value: 'redacted=redacted; path=/; Httponly; Secure' },
      { name: 'Vary', value: 'Accept-Encoding' },
      { name: 'Set-Cookie', value: 'incap_ses_1211_2601068=xxxx=; path=/; Domain=.example.com' },
      { name: 'X-Cdn', value: 'Imperva' },
      { name: 'X-Iinfo', value: '13-108070049-108070050 NNYN CT(26 25 0) RT(1639592714064 0) q(0 0 1 0) r(1 1) U6' },
    ],
    body: 'There is no function named [PxxM-GxxxxxSYSTEM]\n',
  },
};

testRule(rule, import.meta.dirname, [
  {
    name: 'origin answer passed through Imperva is not an Imperva refusal',
    fixture: {
      file: 'inline:passed-through',
      source: 'https://github.com/0xhaggis/Imperva_gzip_bypass/blob/main/demo.md',
      label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
      exchange: exchangeFromFixtureJson(passedThrough, 'inline:passed-through'),
    },
  },
]);
