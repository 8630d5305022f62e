// SPDX-License-Identifier: MIT
// The package as an app gets it: `npm pack` (which runs `prepare`, the
// build), then the tarball installed into scratch projects in a temp dir:
//
// 1. alone: nothing else is installed (react, rxjs and @angular/core are
//    optional peers), the core imports in Node, the adapters say what is
//    missing;
// 2. with rxjs, react, @angular/core and ws: every entry point imports in
//    Node, a client talks to a local ws server (a typed notification, then
//    a 4401 refusal), tsc checks a consumer (on<T>, where<Row>, live(), each
//    subpath, under NodeNext and bundler resolution) and the examples/, and
//    esbuild bundles a browser page.
//
// Dependencies come from npm's cache where possible (--prefer-offline), at
// the versions of this package's lock file. KEEP_PACK_TEST=1 keeps the temp
// dir. Run by `npm run test:pack` and ctest (js_client_package).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const locked = (name) => lock.packages[`node_modules/${name}`].version;
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const esbuild = createRequire(join(root, 'package.json'))('esbuild');

const work = mkdtempSync(join(tmpdir(), 'notifierd-client-pack-'));
const step = (what) => console.log(`== ${what}`);

function npm(args, cwd) {
  // Under `npm run`, the same npm; otherwise the one on PATH.
  const cli = process.env.npm_execpath;
  const [cmd, pre] = cli && cli.endsWith('.js') ? [process.execPath, [cli]] : ['npm', []];
  return execFileSync(cmd, [...pre, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

function project(dir, dependencies) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module', dependencies }, null, 2));
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], dir);
}

try {
  step('npm pack');
  const out = npm(['pack', '--json', '--pack-destination', work], root);
  const [packed] = JSON.parse(out.slice(out.search(/^\[/m))); // after anything `prepare` printed
  const tarball = join(work, packed.filename);
  const files = packed.files.map((f) => f.path);
  assert.equal(packed.name, pkg.name);
  for (const entry of ['index', 'rxjs', 'react', 'angular']) {
    for (const ext of ['js', 'd.ts']) assert.ok(files.includes(`dist/${entry}.${ext}`), `dist/${entry}.${ext} is packed`);
    assert.ok(files.includes(`src/${entry}.ts`), `src/${entry}.ts is packed (source maps, the source condition)`);
  }
  const stray = files.filter((f) => /\.test\.|^src\/testing\/|^build-test\/|^scripts\/|^node_modules\/|^examples\//.test(f));
  assert.deepEqual(stray, [], 'no tests, test support, scripts or examples in the package');
  console.log(`${packed.filename}: ${files.length} files, ${packed.size} bytes`);

  step('the package alone');
  const core = join(work, 'core');
  project(core, { [pkg.name]: `file:${tarball}` });
  const installed = readdirSync(join(core, 'node_modules')).filter((d) => !d.startsWith('.'));
  assert.deepEqual(installed, [pkg.name], 'no peer dependency is pulled in');
  writeFileSync(join(core, 'core.mjs'), `
import assert from 'node:assert/strict';
const m = await import(${JSON.stringify(pkg.name)});
assert.equal(typeof m.NotifierClient, 'function');
assert.equal(m.tokenExpiry('a.' + Buffer.from('{"exp":5}').toString('base64url') + '.c'), 5);
assert.equal(m.where('posts', { forum_id: 7, 'author.id': 'ana' }), 'posts[author.id="ana",forum_id=7]');
assert.ok(m.matches('posts[forum_id=7]', { collection: 'posts', data: { forum_id: 8 }, old: { forum_id: 7 } }));
assert.equal(typeof m.live, 'function');
// Node 20 has no global WebSocket: the client says what to pass.
if (!globalThis.WebSocket) assert.throws(() => new m.NotifierClient({ url: 'ws://127.0.0.1:9/ws' }), /WebSocket/);
if (!globalThis.EventSource) {
  assert.throws(() => new m.NotifierClient({ url: 'ws://127.0.0.1:9/ws', transport: 'sse' }), /EventSource/);
}
for (const sub of ['rxjs', 'react']) {
  await assert.rejects(import(${JSON.stringify(pkg.name)} + '/' + sub), { code: 'ERR_MODULE_NOT_FOUND' }, sub);
}
await assert.rejects(import(${JSON.stringify(pkg.name)} + '/dist/client.js'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
console.log('core imports; the adapters need their peers');
`);
  process.stdout.write(run(process.execPath, ['core.mjs'], core));

  step('with rxjs, react, @angular/core and ws');
  const app = join(work, 'app');
  project(app, {
    [pkg.name]: `file:${tarball}`,
    rxjs: locked('rxjs'),
    react: locked('react'),
    ws: locked('ws'),
    '@types/react': locked('@types/react'),
    '@angular/core': locked('@angular/core'),
  });

  writeFileSync(join(app, 'node.mjs'), `
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import WebSocket, { WebSocketServer } from 'ws';
import { NotifierClient } from ${JSON.stringify(pkg.name)};
import { fromCollection, errors } from ${JSON.stringify(pkg.name + '/rxjs')};
import { useCollection, useConnectionState, useLive } from ${JSON.stringify(pkg.name + '/react')};
import { NotificationService } from ${JSON.stringify(pkg.name + '/angular')};

assert.equal(typeof useCollection, 'function');
assert.equal(typeof useLive, 'function');
assert.equal(typeof useConnectionState, 'function');

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await once(server, 'listening');
let n = 0;
server.on('connection', (ws) => {
  if (++n === 1) {
    ws.send(JSON.stringify({ type: 'welcome', epoch: 'e', seq: 0, resumed: false }));
    ws.send(JSON.stringify({ seq: 1, collection: 'posts', action: 'create', id: '1', data: { title: 'hello' } }));
  } else {
    ws.send(JSON.stringify({ type: 'error', code: 'unauthorized', message: 'token expired' }));
    ws.close(4401, 'unauthorized');
  }
});
const url = 'ws://127.0.0.1:' + server.address().port + '/ws';

const service = new NotificationService({ url, token: 'first', WebSocket });
const [post] = await firstValueFrom(service.collection('posts').pipe(take(1), toArray()));
assert.equal(post.data.title, 'hello');
// Confirmed by the welcome (posts was in its URL): loads at once.
const snapshot = await firstValueFrom(service.live('posts', () => ['loaded']).pipe(filter((s) => s.status === 'live')));
assert.deepEqual(snapshot.data, ['loaded']);
service.ngOnDestroy();

const client = new NotifierClient({ url, token: 'first', WebSocket });
const error = await firstValueFrom(errors(client));
assert.deepEqual(error, { code: 'unauthorized', message: 'token expired', closeCode: 4401 });
assert.equal(client.state, 'closed');
assert.equal(typeof fromCollection, 'function');
server.close();
console.log('every entry point imports; notifications and a refusal arrive');
`);
  process.stdout.write(run(process.execPath, ['node.mjs'], app));

  writeFileSync(join(app, 'consumer.ts'), `
import { NotifierClient, live, where, type LiveQuery, type LiveSnapshot, type Notification, type ServerError, type TokenSource } from ${JSON.stringify(pkg.name)};
import { fromCollection, fromLive, errors } from ${JSON.stringify(pkg.name + '/rxjs')};
import { useCollection, useConnectionState, useLive } from ${JSON.stringify(pkg.name + '/react')};
import { NotificationService } from ${JSON.stringify(pkg.name + '/angular')};
import { of, type Observable } from 'rxjs';

interface Post { title: string; forum_id: number }

const token: TokenSource = () => Promise.resolve('t');
// The event stream, with the browser's EventSource.
const sse = new NotifierClient({ url: 'ws://localhost/ws', transport: 'sse', EventSource, fallbackAfterAttempts: 2, connect: false });
const transport: 'websocket' | 'sse' = sse.transport;
// @ts-expect-error: not a transport
new NotifierClient({ url: 'ws://localhost/ws', transport: 'tcp' });
const client = new NotifierClient({ url: 'ws://localhost/ws', token, connect: false, failedAttemptsBeforeError: 3 });
const titles: string[] = [];
client.on<Post>('posts', (n) => titles.push(n.data.title));
// @ts-expect-error: data is a Post
client.on<Post>('posts', (n) => n.data.nope);
client.on('forums', (n: Notification) => n.data); // unknown by default
client.onError((e: ServerError) => e.closeCode === 4401 && client.setToken('new'));
const posts: Observable<Notification<Post>> = fromCollection<Post>(client, 'posts');
const errs: Observable<ServerError> = errors(client);
const service = new NotificationService(client);
const titles$: Observable<Notification<Post>> = service.collection<Post>('posts');
const forum7: string = where<Post>('posts', { forum_id: 7 });
// @ts-expect-error: forum_id is a number
where<Post>('posts', { forum_id: '7' });
const query: LiveQuery<Post[]> = live<Post[], Post>(client, forum7, async () => [], {
  apply: (rows, n) => [...rows, n.data],
});
const status: 'loading' | 'live' | 'error' = query.status;
const live$: Observable<LiveSnapshot<Post[]>> = service.live(forum7, () => of<Post[]>([])); // an Observable, like HttpClient's
const shared$: Observable<LiveSnapshot<number>> = fromLive(client, 'posts', () => 1);
export { posts, errs, titles$, status, live$, shared$, transport, useCollection, useConnectionState, useLive };
`);
  const tsconfig = (resolution) => ({
    compilerOptions: {
      target: 'ES2020',
      module: resolution === 'bundler' ? 'ES2020' : 'NodeNext',
      moduleResolution: resolution,
      lib: ['ES2020', 'DOM'],
      jsx: 'react-jsx',
      experimentalDecorators: true,
      strict: true,
      noEmit: true,
      types: [],
    },
    files: ['consumer.ts', 'examples/react/forums.tsx', 'examples/angular/notifications.ts'],
  });
  cpSync(join(root, 'examples'), join(app, 'examples'), { recursive: true });
  for (const resolution of ['NodeNext', 'bundler']) {
    step(`tsc (${resolution})`);
    writeFileSync(join(app, `tsconfig.${resolution}.json`), JSON.stringify(tsconfig(resolution), null, 2));
    process.stdout.write(run(process.execPath, [tsc, '-p', `tsconfig.${resolution}.json`], app));
  }

  step('esbuild: a browser page');
  writeFileSync(join(app, 'page.ts'), `
import { NotifierClient } from ${JSON.stringify(pkg.name)};
const client = new NotifierClient({ url: new URL('/ws', location.href).href });
client.on<{ title: string }>('posts', (n) => { document.title = n.data.title; });
client.onState((s) => { document.body.dataset.state = s; });
`);
  const bundle = join(app, 'out', 'page.js');
  await esbuild.build({
    absWorkingDir: app,
    entryPoints: ['page.ts'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    logLevel: 'warning',
    outfile: bundle,
  });
  assert.ok(existsSync(bundle), 'the bundle exists');
  const code = readFileSync(bundle, 'utf8');
  // (assert.ok: a failed match would print the whole bundle)
  assert.ok(/\bNotifierClient = class\b|\bclass NotifierClient\b/.test(code), 'the client class is in the bundle');
  assert.ok(code.includes('notifierd-client: no WebSocket implementation'), 'the built client (dist/)');
  assert.ok(code.includes('handshake_failed'), 'with the handling of refusals');
  assert.ok(!/from ["']node:|require\(/.test(code), 'nothing for Node only');
  console.log(`out/page.js: ${code.length} bytes`);

  step(`${pkg.name}: the package test passed`);
} finally {
  if (process.env.KEEP_PACK_TEST) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
