import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';

const cases = join(import.meta.dirname, 'cases');
const fixtures = join(import.meta.dirname, 'fixtures');
const load = (dir: string, f: string) => loadFixture(join(dir, f));

testRule(rule, import.meta.dirname, [
  {
    name: 'JSON AccessDeniedException: no identity-based policy allows',
    fixture: load(cases, 'json-identity-implicit.json'),
    product: 'aws-iam',
    causes: ['insufficient-role'],
  },
  {
    name: 'JSON AccessDeniedException: no permissions boundary allows',
    fixture: load(cases, 'json-permissions-boundary.json'),
    product: 'aws-iam',
    causes: ['explicit-deny', 'insufficient-role'],
  },
  {
    name: 'JSON AccessDeniedException: explicit deny in a resource-based policy',
    fixture: load(cases, 'json-resource-policy-explicit.json'),
    product: 'aws-iam',
    causes: ['resource-policy'],
  },
]);

test('aws-iam: the gap names the action and resource from the message', () => {
  const out = runRule(rule, load(cases, 'json-identity-implicit.json'));
  const c = out?.causes?.find((x) => x.id === 'insufficient-role');
  assert.deepEqual(c?.gap, { required: ['codecommit:ListRepositories'], held: [] });
  assert.ok(
    c?.fixes?.some((f) =>
      f.commands?.some((cmd) =>
        cmd.startsWith(
          'aws iam simulate-principal-policy --policy-source-arn arn:aws:iam::123456789012:user/JohnDoe --action-names codecommit:ListRepositories',
        ),
      ),
    ),
  );
});

test('aws-iam: an SCP reached through a VPC endpoint names the SCP, and an assumed role maps to its role', () => {
  const out = runRule(rule, load(fixtures, 'sns-explicit-deny-scp.json'));
  const c = out?.causes?.find((x) => x.id === 'explicit-deny');
  assert.match(c?.summary ?? '', /service control policy/);
  assert.ok(
    c?.fixes?.some((f) =>
      f.commands?.some((cmd) =>
        cmd.includes('list-policies-for-target --target-id 111122223333 --filter SERVICE_CONTROL_POLICY'),
      ),
    ),
  );
  assert.deepEqual(c?.gap?.required, ['SNS:Publish on arn:aws:sns:us-east-1:444455556666:role-name-2']);
});

test('aws-iam: an encoded EC2 message yields the exact decode command', () => {
  const out = runRule(rule, load(fixtures, 'ec2-encoded-authorization-message.json'));
  const cmds = out?.causes?.flatMap((c) => c.fixes ?? []).flatMap((f) => f.commands ?? []) ?? [];
  assert.ok(
    cmds.includes(
      "aws sts decode-authorization-message --encoded-message '223e8OLcgbf297A_d_ySw4S3r167YSVenEb3XfhTAp1OVgX07cQ7mosjhjtbi7J7UfcNolz5RfHJoV5BTeVvh_6GHyItKPRFH5T2nzdd-lQXVuqtrpXJ_7m-7yqLukfX8r2aROrRhuiN0VncsXIgUA5inY7f5nvAsF7nKwA_mIMGi1bnSaruMrbKs_6F_kEUqHJv7oCJXqaozDRuuCarlfHfGiNro9TXdWtXS10sjrvEc6YVycK_nuirwNSYRyu96Pyglr6NjTlTi_KDWaSjvxYmdVWrdFjI6jcP68WAqLjTG6uXYb0UEFv5P8bbOnwUoC5Fdxs4kQ4gUlQtVLAsEvGt3fVYNhh52ptrbf7ZW5kCWiV9GEaumRk45h-By0rvpOCQd1z-OdEhPHb77PXfvHnswTNX5Mr1NhR1CtGbQIh7NbidEbTVhCc5nxov1LHZDSRyKbEviCIGJ9KBpWxUEVh5fYSCtBmgRxkaeTym_e' --query DecodedMessage --output text | jq .",
    ),
  );
});
