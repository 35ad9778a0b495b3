// Run-time code never loads a test helper: what the library and the command
// reach (static and dynamic imports, as esbuild bundles them for the package)
// holds no test, no script and none of the rule-folder helpers that read
// fixtures from a checkout (a built package has no rule folders; the catalog
// takes its counts from the generated index).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';

const ROOT = join(import.meta.dirname, '..', '..');

const TEST_ONLY = [/^src\/rules\/_lib\/(fixtures|folders|tester)\.ts$/, /\.test\.ts$/, /^(test|scripts|bench)\//];

test('the library and the command import no test helper', async () => {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['src/index.ts', 'src/cli/bin.ts'],
    bundle: true,
    write: false,
    splitting: true,
    format: 'esm',
    platform: 'node',
    outdir: join(ROOT, 'dist-runtime-imports'),
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).map((p) => relative(ROOT, join(ROOT, p)));
  assert.ok(
    inputs.includes('src/catalog.ts') && inputs.includes('src/importers/record.ts'),
    'the walk reaches run-time code',
  );
  const helpers = inputs.filter((p) => TEST_ONLY.some((re) => re.test(p)));
  assert.deepEqual(helpers, [], `run-time code reaches test helpers: ${helpers.join(', ')}`);
});
