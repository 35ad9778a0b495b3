// TEMPLATE: copied by `npm run new-rule NAME` to src/rules/NAME/rule.ts.
// Say here, in two or three sentences, what the product answers when it
// refuses, and what tells its refusals apart. The rule's words — description,
// sources, messages and fixes — are in texts.json; this file is the logic.
import { defineProducer, ev, signals } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

export default defineProducer({
  meta: {
    id: 'template',
    product: 'unknown',
    layer: 'application',
    // Every cause the rule may claim (docs/vocabulary.md lists them).
    causes: ['insufficient-role'],
    // The statuses it explains; leave out for every denial (401, 403, 407).
    statuses: [403],
    // Products whose own rule should win when both recognise a response.
    // yieldsTo: ['nginx'],
    ...texts,
  },
  // Runs once. Each signal adds its evidence; the strongest sets the confidence
  // (0.9+ for a marker only this product sends, ~0.5 for a shared header).
  recognise(ctx) {
    const found = signals();
    const server = ctx.header('server');
    if (server && /^TEMPLATE\b/i.test(server)) found.add(0.9, ev('header:server', server));
    return found.result();
  },
  // Runs only when recognise() found the product and the status is one it explains.
  explain(ctx, recognised, report) {
    const role = /requires the role (\w+)/i.exec(ctx.body.text)?.[1];
    if (role)
      report.claim('insufficient-role', 'missingRole', 0.8, {
        data: { role },
        evidence: [...recognised.evidence, ev('body', `names the role ${role}`)],
        gap: { required: [role], held: [] },
        fixes: ['grantRole'],
      });
  },
});
