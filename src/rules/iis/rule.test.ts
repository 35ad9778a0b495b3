import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { responseCase } from '../_lib/unit-case.ts';

const page = (code: string, title: string) =>
  `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"><html><head><title>IIS 10.0 Detailed Error - ${code} - ${title}</title></head><body><div class="content-container"><h3>HTTP Error ${code} - ${title}</h3></div></body></html>`;

testRule(rule, import.meta.dirname, [
  {
    name: '403.503 → ip-restricted',
    fixture: responseCase('ip', 403, { Server: 'Microsoft-IIS/10.0' }, page('403.503', 'Forbidden')),
    product: 'iis',
    causes: ['ip-restricted'],
  },
  {
    name: '401.1 → credential-invalid',
    fixture: responseCase(
      'logon',
      401,
      { Server: 'Microsoft-IIS/10.0', 'WWW-Authenticate': 'Negotiate' },
      page('401.1', 'Unauthorized'),
    ),
    product: 'iis',
    causes: ['credential-invalid'],
  },
  {
    name: '403.4 → wrong-endpoint (HTTPS required)',
    fixture: responseCase('ssl', 403, { Server: 'Microsoft-IIS/8.5' }, page('403.4', 'Forbidden')),
    product: 'iis',
    causes: ['wrong-endpoint'],
  },
  {
    name: '403.16 → credential-invalid (untrusted client certificate)',
    fixture: responseCase('cert', 403, { Server: 'Microsoft-IIS/10.0' }, page('403.16', 'Forbidden')),
    product: 'iis',
    causes: ['credential-invalid'],
  },
  {
    name: 'Server: Microsoft-IIS on an app’s own 403 claims no cause and only weakly the product',
    fixture: responseCase(
      'app',
      403,
      { Server: 'Microsoft-IIS/10.0', 'X-Powered-By': 'ASP.NET' },
      '{"error":"forbidden"}',
    ),
  },
]);
