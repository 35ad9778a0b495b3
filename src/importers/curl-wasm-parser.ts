// Stands in for curlconverter's dist/src/shell/Parser.js, which loads the
// native `tree-sitter` addon. This project runs no native addons, so the bash
// grammar runs as WebAssembly instead — the same swap curlconverter's own
// package.json "browser" field makes for webParser.js, but reading the .wasm
// files from disk rather than fetching them from "/".
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Parser from 'web-tree-sitter';

const require = createRequire(import.meta.url);

// curlconverter's dist/tree-sitter-bash.wasm is the grammar build its web
// variant is tested with. The built package bundles curlconverter and ships
// that file beside this module's chunk (scripts/build.ts copies it); in a
// checkout it is read from curlconverter's own folder, hoisted or nested.
const beside = fileURLToPath(new URL('./tree-sitter-bash.wasm', import.meta.url));
const grammarPath = existsSync(beside)
  ? beside
  : join(dirname(require.resolve('curlconverter/package.json')), 'dist', 'tree-sitter-bash.wasm');

await Parser.init();
const Bash = await Parser.Language.load(grammarPath);
const parser = new Parser();
parser.setLanguage(Bash);

// The grammar's error recovery can take seconds on a few kilobytes of odd
// quoting (found by fuzzing: 13 KB with an unclosed quote and a run of "<"
// took 1 s), while a valid command parses at megabytes a second. Each parse gets a budget that grows
// with the input; past it tree-sitter gives up, and the error says so (code
// W403_PARSE_TIMEOUT) for curl.ts to turn into an InputError.
const BUDGET_BASE_US = 300_000;
const BUDGET_PER_CHAR_US = 0.5;
// curlconverter calls parse(text) alone, so this object stands in for the parser
// (whose methods are read-only). No type annotations in this file: the resolve
// hook in curl.ts loads it as plain JavaScript.
const timed = {
  parse(input = '') {
    const budget = Math.round(BUDGET_BASE_US + input.length * BUDGET_PER_CHAR_US);
    parser.setTimeoutMicros(budget);
    try {
      return parser.parse(input);
    } catch (err) {
      // A parse that timed out would otherwise be resumed by the next call, on another input.
      parser.reset();
      if (err instanceof Error && err.message === 'Parsing failed') {
        throw Object.assign(new Error(`the shell parser gave up after ${Math.round(budget / 1000)} ms`), {
          code: 'W403_PARSE_TIMEOUT',
        });
      }
      throw err;
    } finally {
      parser.setTimeoutMicros(0);
    }
  },
};

export default timed;
