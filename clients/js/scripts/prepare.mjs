// SPDX-License-Identifier: MIT
// npm's `prepare`: builds dist/ (ES modules, .d.ts and source maps) with tsc.
// npm runs it on `npm install` / `npm ci` here, on `npm pack`, and in this
// directory when another project installs it by path (a file: link, like
// examples/forum/web). In that last case TypeScript may not be installed
// here yet: then dist/ is left as it is, with a note (a bundler that reads
// the `source` condition does not need it), instead of failing the other
// project's install. Packing without TypeScript fails.

import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');

let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  const packing = ['pack', 'publish'].includes(process.env.npm_command ?? '');
  const what = existsSync(join(dist, 'index.js')) ? 'dist/ is left as it is' : 'dist/ is not built';
  console.error(`notifierd-client: TypeScript is not installed in ${root}: ${what}; run \`npm ci\` there to build it`);
  process.exit(packing ? 1 : 0);
}

rmSync(dist, { recursive: true, force: true }); // nothing stale is packed
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
