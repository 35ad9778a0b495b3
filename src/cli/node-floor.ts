// The oldest Node.js why403 runs on, and the same number in package.json's
// "engines" (a test keeps the two equal). node:sqlite decides it: the scan's
// state file uses DatabaseSync#isOpen, which came in 22.15 (sqlite itself is
// unflagged since 22.13), and the checkout's curl parser hook uses
// module.registerHooks, also 22.15.
export const NODE_FLOOR = '22.15.0';

/** True when `version` ("v20.20.2" or "20.20.2") is older than the floor. */
export function olderThanFloor(version: string): boolean {
  const have = version.replace(/^v/, '').split('.').map(Number);
  const need = NODE_FLOOR.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    if ((have[i] ?? 0) !== need[i]) return (have[i] ?? 0) < need[i];
  }
  return false;
}
