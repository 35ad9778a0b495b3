import { ruleCatalog } from '../catalog.ts';
import type { Io } from './io.ts';
import { commandArgs, printHelp } from './args.ts';
import { wrap } from '../render/text.ts';
import { exitCode } from './exit-code.ts';

const HELP = `Usage: why403 rules [--json]

Lists every producer and cause this version knows, with the layer and the
number of real fixtures behind each.
  --json    the catalogue as JSON
`;

export async function rulesCommand(argv: string[], io: Io): Promise<number> {
  const { values } = commandArgs(argv, { json: { type: 'boolean' } }, false);
  if (values.help) return printHelp(io, HELP);
  const catalog = await ruleCatalog();
  if (values.json) {
    io.stdout.write(JSON.stringify(catalog, null, 2) + '\n');
    return exitCode({ kind: 'done' });
  }
  const lines = [`Producers (${catalog.producers.length}):`, `  ${'product'.padEnd(24)}${'layer'.padEnd(26)}fixtures`];
  for (const p of catalog.producers)
    lines.push(`  ${p.product.padEnd(24)}${p.layers.join(', ').padEnd(26)}${p.fixtures}`);
  lines.push('', `Causes (${catalog.causes.length}):`, `  ${'cause'.padEnd(26)}${'fixtures'.padEnd(10)}rules`);
  for (const c of catalog.causes)
    lines.push(
      wrap(
        c.rules.length ? c.rules.join(', ') : '(none yet)',
        80,
        ' '.repeat(38),
        `  ${c.id.padEnd(26)}${String(c.fixtures).padEnd(10)}`,
      ),
    );
  lines.push(
    '',
    wrap(
      `${catalog.fixtures} fixtures in all, each a real response: captured from the product on loopback, or copied from its documentation.`,
      80,
    ),
  );
  io.stdout.write(lines.join('\n') + '\n');
  return exitCode({ kind: 'done' });
}
