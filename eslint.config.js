// Lint for everything the project runs: src/, scripts/, bench/ and test/.
// - typescript-eslint's recommended rules, read without type information (the
//   lint stays fast; `npm run typecheck` is the type-aware check).
// - eslint-plugin-regexp's safety rules (issue 12) on src/, where what a
//   server sends arrives: a pattern that can take super-linear time on a long
//   run of one character turns a 1 MB body into a hang. Tests, scripts and
//   benchmarks read only the project's own output. Only the safety rules are
//   on; the plugin's style rules are not the point.
// Formatting is Prettier's (npm run format), so no stylistic rule is here.
import regexp from 'eslint-plugin-regexp';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['dist/**', 'node_modules/**', '**/fixtures/**', 'test/fuzz/found/**'] },
  ...tseslint.configs.recommended.map((config) => ({ ...config, files: ['**/*.ts'] })),
  {
    files: ['**/*.ts', '**/*.js'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['src/**/*.ts'],
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
  {
    // Unused names prefixed with "_" are deliberate (a callback's unused argument).
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Test servers and capture scripts read JSON of their own making or a
    // browser's DevTools protocol; typing every message would say nothing.
    files: ['test/**/*.ts', 'scripts/capture/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
];
