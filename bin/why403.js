#!/usr/bin/env node
// Entry point. why403 is TypeScript run by Node's type stripping, which needs
// Node >= 22.18; say so plainly instead of failing with a syntax error.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `why403: needs Node.js >= 22.18 (this is ${process.version}). ` +
      'In the project folder, run it through npm (npx why403 …, npm run why403 -- …), which uses the pinned Node from devDependencies.\n',
  );
  process.exit(2);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
