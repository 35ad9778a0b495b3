// Lint for the regular expressions in src/ (issue 12): a pattern that can take
// super-linear time on a long run of one character turns a 1 MB body into a
// hang. Only eslint-plugin-regexp's safety rules are on; the style rules of its
// recommended set are not the point here. The TypeScript parser reads .ts
// without type information (the rules need none), so the lint stays fast.
import regexp from 'eslint-plugin-regexp';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['dist/**', 'node_modules/**', '**/fixtures/**'] },
  {
    files: ['**/*.ts', '**/*.js'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { regexp },
    rules: {
      // Exponential or polynomial backtracking inside one match attempt.
      'regexp/no-super-linear-backtracking': ['error', { report: 'potential' }],
      // A quantifier that rescans the same run at every start position (quadratic
      // on an unmatched run, e.g. `\S+ is missing` on 64 KB of one letter).
      'regexp/no-super-linear-move': ['error', { report: 'potential', ignorePartial: false }],
      'regexp/no-dupe-disjunctions': ['error', { reportExponentialBacktracking: 'potential' }],
      'regexp/no-misleading-capturing-group': ['error', { reportBacktrackingEnds: true }],
      'regexp/no-invalid-regexp': 'error',
      'regexp/no-useless-backreference': 'error',
      'regexp/no-potentially-useless-backreference': 'error',
    },
  },
];
