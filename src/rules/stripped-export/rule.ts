// A HAR exported by a browser's default "sanitized" export carries no Cookie
// or Authorization header even when the browser sent them. Rules that read
// "no credential in the request" as credential-missing cannot know that; this
// rule argues against that cause whenever the importer saw the stripping, so
// the ranking falls back on what the response itself says.
import { defineCause, ev } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

export default defineCause({
  meta: {
    id: 'stripped-export',
    causes: ['credential-missing'],
    ...texts,
  },
  applies: (ctx) => ctx.exchange.credentialsStripped === true,
  explain(_ctx, report) {
    report.claim('credential-missing', 'stripped', -0.8, {
      evidence: [ev('input', 'sanitized HAR export: credentials stripped before saving', -0.8)],
    });
  },
});
