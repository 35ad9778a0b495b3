// `why403 audit --junit FILE`: the matrix as a JUnit XML test report, so a
// CI system (Jenkins, GitLab, GitHub test reporters) shows each cell as a test
// case and each failing finding as a failed test with its diagnosis. One
// test suite per identity, one test case per cell. The shape is the one the
// Jenkins xUnit plugin's junit-10.xsd accepts (see test/fixtures/junit/), the
// most permissive widely read schema that still takes a message on
// <skipped>. Everything in the result came from a server or a file: text is
// made printable and every character XML 1.0 forbids is replaced, so no
// answer can break the document or a CI log.
import type { AuditCell, AuditFinding, AuditResult } from '../audit/model.ts';
import { printable } from '../errors.ts';
import { cellIndex, cellKey, changedCells, findingFacts, findingTitle, operationLabel } from './audit.ts';

/** Every character XML 1.0 does not allow: C0 controls but tab, newline and return; lone surrogates; U+FFFE, U+FFFF. */
const NOT_XML = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/** One line of text that XML 1.0 can carry: controls written as escapes (\x1b), what is left unrepresentable as U+FFFD. */
function xmlSafeLine(s: string): string {
  return printable(s).replace(NOT_XML, '\ufffd');
}

/** Text content: each line made safe, `&`, `<` and `>` escaped (so `]]>` cannot end anything). */
export function xmlText(s: string): string {
  return s.split('\n').map(xmlSafeLine).join('\n').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An attribute value: one line, and the quote escaped too. */
export function xmlAttr(s: string): string {
  return xmlSafeLine(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Seconds as JUnit writes them: a plain decimal, never an exponent or a negative. */
export function seconds(ms: number | undefined): string {
  return (Number.isFinite(ms) && ms! > 0 ? ms! / 1000 : 0).toFixed(3);
}

/** The diagnosis a CI reader sees under a test case: the finding's title, then its facts a line each. */
export function diagnosisText(f: AuditFinding): string {
  return [findingTitle(f), ...findingFacts(f).map((x) => `${x.label}: ${x.text}`)].join('\n');
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function testcase(cell: AuditCell | undefined, r: AuditResult, op: AuditResult['operations'][number], who: string) {
  const name = `${who} ${operationLabel(op)}`;
  const open = `    <testcase classname="${xmlAttr(op.id)}" name="${xmlAttr(name)}" time="${seconds(cell?.ms)}"`;
  if (!cell || cell.verdict === 'skipped') {
    const reason =
      r.skipped.find((k) => k.id === op.id)?.reason ??
      (SAFE.has(op.method) ? 'not sent' : `not sent: ${op.method} may change data; --allow-unsafe sends it`);
    return {
      xml: `${open}>\n      <skipped message="${xmlAttr(reason)}"/>\n    </testcase>`,
      failed: false,
      skipped: true,
    };
  }
  const finding = cell.finding !== undefined ? r.findings[cell.finding] : undefined;
  // Against a baseline only a cell newly open or newly denied fails; one that failed before too is known.
  const change = changedCells(r)?.get(cellKey(cell.operation, cell.identity));
  const fails = finding?.severity === 'fail' && (!r.baseline || change === 'newly-open' || change === 'newly-denied');
  if (finding && !fails && finding.severity === 'fail') {
    const out = `      <system-out>${xmlText(`${change ? 'changed, but not newly open or denied' : 'unchanged'} since the baseline: ${diagnosisText(finding)}`)}</system-out>`;
    return { xml: `${open}>\n${out}\n    </testcase>`, failed: false, skipped: false };
  }
  if (fails && finding) {
    const failure = `      <failure message="${xmlAttr(finding.summary)}" type="${xmlAttr(finding.kind)}">${xmlText(diagnosisText(finding))}</failure>`;
    return { xml: `${open}>\n${failure}\n    </testcase>`, failed: true, skipped: false };
  }
  if (finding) {
    const out = `      <system-out>${xmlText(`warning: ${diagnosisText(finding)}`)}</system-out>`;
    return { xml: `${open}>\n${out}\n    </testcase>`, failed: false, skipped: false };
  }
  if (cell.holds === null) {
    const why = cell.expected === 'unknown' ? 'nothing was expected' : 'not judged';
    const out = `      <system-out>${xmlText(`${why}: answered ${cell.status ?? 'nothing'} (${cell.verdict})`)}</system-out>`;
    return { xml: `${open}>\n${out}\n    </testcase>`, failed: false, skipped: false };
  }
  return { xml: `${open}/>`, failed: false, skipped: false };
}

function testsuite(r: AuditResult, identity: AuditResult['identities'][number], id: number) {
  const cells = cellIndex(r);
  const cases = r.operations.map((op) => {
    const cell = cells.get(cellKey(op.id, identity.name));
    return { ...testcase(cell, r, op, identity.name), ms: cell?.ms ?? 0 };
  });
  const failures = cases.filter((c) => c.failed).length;
  const skipped = cases.filter((c) => c.skipped).length;
  const ms = cases.reduce((a, c) => a + c.ms, 0);
  const properties = [
    ['source', `${r.source.kind} ${r.source.name}`],
    ['base-url', r.baseUrl],
    ['credential', `${identity.credential || 'none'} (${identity.origin})`],
    ['scopes', `${identity.scopes.join(' ')} (${identity.scopesFrom})`.trimStart()],
    ['roles', `${identity.roles.join(' ')} (${identity.rolesFrom})`.trimStart()],
  ]
    .map(([name, value]) => `      <property name="${name}" value="${xmlAttr(value!)}"/>`)
    .join('\n');
  const head = `  <testsuite name="${xmlAttr(identity.name)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(ms)}" id="${id}" package="why403.audit">`;
  const xml = [head, '    <properties>', properties, '    </properties>', ...cases.map((c) => c.xml), '  </testsuite>'];
  return { xml: xml.join('\n'), tests: cases.length, failures, skipped };
}

export function renderJunit(r: AuditResult): string {
  const suites = r.identities.map((identity, i) => testsuite(r, identity, i));
  const tests = suites.reduce((a, s) => a + s.tests, 0);
  const failures = suites.reduce((a, s) => a + s.failures, 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="why403 audit" tests="${tests}" failures="${failures}" errors="0" time="${seconds(r.elapsedMs)}">`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}
