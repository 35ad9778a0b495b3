// `npm run new-rule NAME` scaffolds a rule folder from src/rules/_template.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRule } from '../../scripts/new-rule.ts';

const ROOT = join(import.meta.dirname, '../..');

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'why403-new-rule-'));
  cpSync(join(ROOT, 'src/rules/_template'), join(dir, 'src/rules/_template'), { recursive: true });
  cpSync(join(ROOT, 'src/model/vocabulary.ts'), join(dir, 'src/model/vocabulary.ts'));
  return dir;
}

test('new-rule writes the rule, its test and a fixture guide, and adds the producer slug', (t) => {
  const root = scratch();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const files = newRule({ name: 'acme-api', layer: 'gateway', root });
  const rule = readFileSync(join(root, 'src/rules/acme-api/rule.ts'), 'utf8');
  assert.match(rule, /id: 'acme-api'/);
  assert.match(rule, /product: 'acme-api'/);
  assert.match(rule, /layer: 'gateway'/);
  assert.match(rule, /^\/\/ TODO: Say here/);
  assert.doesNotMatch(rule, /copied by `npm run new-rule/);
  assert.match(
    readFileSync(join(root, 'src/rules/acme-api/rule.test.ts'), 'utf8'),
    /testRule\(rule, import\.meta\.dirname\)/,
  );
  assert.match(
    readFileSync(join(root, 'src/rules/acme-api/fixtures/README.md'), 'utf8'),
    /"product": "acme-api", "layer": "gateway"/,
  );
  assert.match(readFileSync(join(root, 'src/model/vocabulary.ts'), 'utf8'), /'acme-api',\n {2}'why403',/);
  assert.match(readFileSync(join(root, 'src/rules/acme-api/texts.json'), 'utf8'), /"messages"/);
  assert.equal(files.length, 5);
});

test('new-rule refuses a name that is not kebab-case, an unknown layer and an existing folder', (t) => {
  const root = scratch();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.throws(() => newRule({ name: 'Acme_API', layer: 'gateway', root }), /kebab-case/);
  assert.throws(() => newRule({ name: 'acme', layer: 'firewall', root }), /--layer must be one of/);
  newRule({ name: 'acme', layer: 'gateway', root });
  assert.throws(() => newRule({ name: 'acme', layer: 'gateway', root }), /already exists/);
});
