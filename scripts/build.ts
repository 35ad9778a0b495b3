// `npm run build`: the package users install, in dist/.
//
//   dist/index.js, dist/cli.js and their chunks   esbuild: one bundle per entry,
//       split so each command loads only its own code (the scan's SQLite, the
//       curl parser and the rules are separate chunks, imported when used).
//       Production dependencies stay external; curlconverter is bundled, with
//       its native tree-sitter parser swapped for src/importers/curl-wasm-parser.ts
//       (web-tree-sitter), so the installed tree has no native addon and no
//       install script.
//   dist/express.js, fastify.js, web.js            the middleware's subpaths (why403/express, …)
//   dist/otel.js, dist/sqlite.js                   its sinks with a dependency of their own
//   dist/chunks/tree-sitter-bash.wasm              the bash grammar that parser loads
//   dist/types/**.d.ts                             tsc, declarations only
//
// esbuild bundles and tsc writes the declarations: esbuild is the bundler the
// TypeScript library builders (tsup, Vite) are built on, fast and stable, and
// tsc is the only tool that emits declarations exactly as the type checker sees them.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  engines: { node: string };
};

const step = (what: string) => process.stderr.write(`build: ${what}\n`);

step('indexes');
run(process.execPath, [join(ROOT, 'scripts/generate-indexes.ts')]);

rmSync(DIST, { recursive: true, force: true });

// curlconverter's Node parser loads the native tree-sitter addon; the wasm one stands in.
const wasmParser: esbuild.Plugin = {
  name: 'curlconverter-wasm-parser',
  setup(build) {
    // curlconverter/dist/src/shell/tokenizer.js imports it as "./Parser.js".
    build.onResolve({ filter: /^\.\/Parser\.js$/ }, (args) =>
      /[\\/]curlconverter[\\/]dist[\\/]src[\\/]shell$/.test(args.resolveDir)
        ? { path: join(ROOT, 'src/importers/curl-wasm-parser.ts') }
        : undefined,
    );
  },
};

step('bundle (esbuild)');
const floor = /\d+(\.\d+)*/.exec(pkg.engines.node)?.[0] ?? '22';
const result = await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: {
    index: 'src/index.ts',
    cli: 'src/cli/bin.ts',
    // The middleware's subpaths: why403/express, /fastify, /web, and the sinks
    // that bring a dependency of their own (OpenTelemetry's API, node:sqlite).
    express: 'src/middleware/express.ts',
    fastify: 'src/middleware/fastify.ts',
    web: 'src/middleware/web.ts',
    otel: 'src/middleware/sinks/otel.ts',
    sqlite: 'src/middleware/sinks/sqlite.ts',
  },
  outdir: DIST,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: `node${floor}`,
  // Production dependencies, and the optional peers only the OpenTelemetry sink imports.
  external: [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})],
  plugins: [wasmParser],
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'inline',
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(join(DIST, '.metafile.json'), JSON.stringify(result.metafile));
const curlconverterDir = dirname(require.resolve('curlconverter/package.json'));
// Beside the chunk that holds curl-wasm-parser.ts, which looks for it there.
copyFileSync(join(curlconverterDir, 'dist', 'tree-sitter-bash.wasm'), join(DIST, 'chunks', 'tree-sitter-bash.wasm'));
copyFileSync(join(curlconverterDir, 'LICENSE'), join(DIST, 'curlconverter.LICENSE'));

step('declarations (tsc)');
mkdirSync(join(DIST, 'types'), { recursive: true });
run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')]);
step('done');

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', process.stderr, 'inherit'] });
  if (r.status !== 0) {
    process.stderr.write(`build: ${args.join(' ')} failed\n`);
    process.exit(r.status ?? 1);
  }
}
