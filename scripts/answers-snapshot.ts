// Writes every rule fixture's answer (producer, confidence, ranked causes with
// scores, gap, fix titles) as JSON lines, so a refactor of the rules can be
// compared with the answers before it: `node scripts/answers-snapshot.ts > a.jsonl`;
// `--full` adds every cause's summary, evidence, fixes and gap, and the
// credential findings with their causes and weights.
import { join } from 'node:path';
import { loadRules } from '../src/rules/registry.ts';
import { ruleFolders, rulesDir } from '../src/rules/_lib/folders.ts';
import { loadFixtures } from '../src/rules/_lib/fixtures.ts';
import { diagnoseWith } from '../src/engine/diagnose.ts';

const rules = await loadRules();
for (const folder of ruleFolders()) {
  for (const fx of loadFixtures(join(rulesDir(), folder, 'fixtures'))) {
    const r = diagnoseWith(rules, fx.exchange, { now: fx.now });
    const line = {
      file: fx.file.slice(rulesDir().length + 1),
      producer: r.deniedBy ? `${r.deniedBy.product}/${r.deniedBy.layer}@${r.deniedBy.confidence}` : null,
      causes: r.causes.map((c) => `${c.id}:${c.score}${c.gap ? ` gap=${JSON.stringify(c.gap)}` : ''}`),
      summary: r.causes[0]?.summary,
      fixes: r.causes[0]?.fixes.map((f) => f.title),
      notes: r.notes,
      ...(process.argv.includes('--full')
        ? {
            full: r.causes.map((c) => ({
              id: c.id,
              summary: c.summary,
              evidence: c.evidence,
              fixes: c.fixes,
              gap: c.gap,
            })),
            deniedBy: r.deniedBy,
            credential: r.credential.findings,
          }
        : {}),
    };
    process.stdout.write(JSON.stringify(line) + '\n');
  }
}
