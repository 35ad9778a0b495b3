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
const grammarPath = existsSync(beside) ? beside : join(dirname(require.resolve('curlconverter/package.json')), 'dist', 'tree-sitter-bash.wasm');

await Parser.init();
const Bash = await Parser.Language.load(grammarPath);
const parser = new Parser();
parser.setLanguage(Bash);

export default parser;
