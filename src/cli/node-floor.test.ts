import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLOOR, olderThanFloor } from './node-floor.ts';

test('package.json engines states the floor the command checks', () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as {
    engines: { node: string };
  };
  assert.equal(pkg.engines.node, `>=${NODE_FLOOR}`);
});

test('older than the floor: by major, minor and patch, with or without the v', () => {
  assert.equal(olderThanFloor('v20.20.2'), true);
  assert.equal(olderThanFloor('22.14.9'), true);
  assert.equal(olderThanFloor('v22.15.0'), false);
  assert.equal(olderThanFloor('22.15.1'), false);
  assert.equal(olderThanFloor('23.0.0'), false);
  assert.equal(olderThanFloor('v24.21.0'), false);
  assert.equal(olderThanFloor('4.9.1'), true);
});
