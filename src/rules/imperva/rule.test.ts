import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson } from '../_lib/fixtures.ts';
import { parseHeaderArg } from '../../cli/header-arg.ts';

// https://github.com/0xhaggis/Imperva_gzip_bypass/blob/main/demo.md, 'With the WAF
// bypass': the IIS origin's own answer passed back through Imperva (headers verbatim,
// cookie values redacted there as xxxx/redacted; body: its first line). Imperva's marks are on it, but
// Imperva did not refuse anything, so the rule must not name it as the producer.
const capturedHeaders = `Cache-Control: private
Content-Type: text/xml; charset=utf-8
Server: Microsoft-IIS/8.5
X-Aspnet-Version: 4.0.30319
X-Powered-By: ASP.NET
Date: Wed, 15 Dec 2021 18:25:06 GMT
Set-Cookie: redacted=redacted; path=/; Httponly; Secure
Vary: Accept-Encoding
Set-Cookie: incap_ses_1211_2601068=xxxx=; path=/; Domain=.example.com
X-Cdn: Imperva
X-Iinfo: 13-108070049-108070050 NNYN CT(26 25 0) RT(1639592714064 0) q(0 0 1 0) r(1 1) U6`;
const passedThrough = {
  request: { method: 'POST', url: 'https://images.example.com/HTTPIntNet.aspx', headers: {} },
  response: {
    status: 200,
    statusText: 'OK',
    httpVersion: 'HTTP/2',
    headers: capturedHeaders.split('\n').map(parseHeaderArg),
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
