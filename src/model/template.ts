// The `{{name}}` templates of rule messages and fixes (texts.json), and of
// the engine's next steps: filled from a claim's data, or the request's.
import type { Fix } from './report.ts';
import type { FixTemplate } from './rule.ts';

/** Values for a template's `{{name}}` placeholders. */
export type MessageData = Readonly<Record<string, string | number | undefined>>;

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

/** Fills `{{name}}` from data; a placeholder without a value stays visible, and the rule tester fails on it. */
export function formatMessage(template: string, data: MessageData = {}): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    const v = data[name];
    return v === undefined ? whole : String(v);
  });
}

/** A fix with its placeholders filled. */
export function formatFix(fix: FixTemplate | Fix, data: MessageData = {}): Fix {
  return {
    title: formatMessage(fix.title, data),
    difficulty: fix.difficulty as Fix['difficulty'],
    ...(fix.commands ? { commands: fix.commands.map((c) => formatMessage(c, data)) } : {}),
    ...(fix.verify !== undefined ? { verify: formatMessage(fix.verify, data) } : {}),
    ...(fix.docs !== undefined ? { docs: formatMessage(fix.docs, data) } : {}),
  };
}
