import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareWithManifest,
  createBackupManifest,
  getEntryPathProblem,
  getSymlinkProblem,
  parseBackupManifest,
} from '../../../src/rollout/core/backup-manifest.js';

const h = (c: string) => c.repeat(64);
const manifest = createBackupManifest({
  env: 'staging',
  createdAtMs: Date.UTC(2026, 10, 28, 1, 0, 0, 5),
  reason: 'pre-deploy',
  release: { releaseId: 'r1', version: '0.1.0', contentSha256: h('c') },
  schemaVersion: 3,
  hasDatabase: true,
  entries: [
    { path: 'release/b.js', sha256: h('b'), size: 2 },
    { path: 'database/dhash.sqlite', sha256: h('d'), size: 4096 },
    { path: 'release/a.js', sha256: h('a'), size: 1 },
  ],
  symlinks: [{ path: 'release/node_modules/.bin/x', target: '../x/cli.js' }],
});

test('builds a manifest with sorted entries and the release and schema facts', () => {
  assert.deepEqual(manifest, {
    formatVersion: 1,
    env: 'staging',
    createdAt: '2026-11-28T01:00:00.005Z',
    reason: 'pre-deploy',
    releaseId: 'r1',
    version: '0.1.0',
    releaseContentSha256: h('c'),
    schemaVersion: 3,
    engine: 'sqlite',
    database: 'database/dhash.sqlite',
    entries: [
      { path: 'database/dhash.sqlite', sha256: h('d'), size: 4096 },
      { path: 'release/a.js', sha256: h('a'), size: 1 },
      { path: 'release/b.js', sha256: h('b'), size: 2 },
    ],
    symlinks: [{ path: 'release/node_modules/.bin/x', target: '../x/cli.js' }],
  });
  assert.deepEqual(parseBackupManifest(JSON.stringify(manifest)), { manifest, problems: [] });
});

test('reports every schema problem of a manifest with its path', () => {
  const bad = { ...manifest, formatVersion: 2, entries: [{ path: 'x', sha256: 'nothex', size: 1 }] };
  const parsed = parseBackupManifest(JSON.stringify(bad));
  assert.equal(parsed.manifest, null);
  assert.deepEqual(
    parsed.problems.map((p) => p.message.split(':')[0]),
    ['manifest.json formatVersion', 'manifest.json entries.0.sha256'],
  );
  assert.equal(parseBackupManifest('{').problems[0]!.code, 'EMANIFESTINVALID');
});

test('refuses entry names that could escape the target folder', () => {
  assert.equal(getEntryPathProblem('release/dist/a.js'), null);
  assert.equal(getEntryPathProblem('../evil'), 'the name contains a `..` segment');
  assert.equal(getEntryPathProblem('release/../../evil'), 'the name contains a `..` segment');
  assert.equal(getEntryPathProblem('/etc/passwd'), 'the name is an absolute path');
  assert.equal(getEntryPathProblem('C:/x'), 'the name starts with a drive letter');
  assert.equal(getEntryPathProblem('release\\..\\evil'), 'the name contains a backslash');
  assert.equal(getEntryPathProblem('a//b'), 'the name contains an empty or `.` segment');
  assert.equal(getEntryPathProblem('a/\u0000b'), 'the name contains a control character');
});

test('accepts symlinks that stay inside release/ and refuses the others', () => {
  assert.equal(getSymlinkProblem({ path: 'release/node_modules/.bin/x', target: '../x/cli.js' }), null);
  assert.equal(
    getSymlinkProblem({ path: 'release/a', target: '/etc/passwd' }),
    'the link target is absolute or malformed',
  );
  assert.equal(
    getSymlinkProblem({ path: 'release/a', target: '../../x' }),
    'the link target resolves to ../x, outside release/',
  );
  assert.equal(
    getSymlinkProblem({ path: 'release/a', target: '..' }),
    'the link target resolves to ., outside release/',
  );
  assert.equal(getSymlinkProblem({ path: 'config/a', target: 'b' }), 'symlinks are only allowed inside release/');
});

test('compares zip contents with the manifest, naming each disagreeing entry', () => {
  const actual = new Map([
    ['manifest.json', { sha256: h('f'), size: 9 }],
    ['database/dhash.sqlite', { sha256: h('d'), size: 4096 }],
    ['release/a.js', { sha256: h('e'), size: 1 }],
    ['release/extra.js', { sha256: h('1'), size: 3 }],
  ]);
  assert.deepEqual(compareWithManifest(manifest, actual), [
    {
      code: 'EMANIFESTMISMATCH',
      entry: 'release/a.js',
      message: `release/a.js has sha256 ${h('e')} (1 bytes) but the manifest says ${h('a')} (1 bytes)`,
    },
    {
      code: 'EMANIFESTMISMATCH',
      entry: 'release/b.js',
      message: 'release/b.js is listed in the manifest but missing from the zip',
    },
    {
      code: 'EMANIFESTMISMATCH',
      entry: 'release/extra.js',
      message: 'release/extra.js is in the zip but not listed in the manifest',
    },
  ]);
});

test('records the change-log high-water seq when given, and still reads a manifest without it', async () => {
  const { createBackupManifest, parseBackupManifest } = await import('../../../src/rollout/core/backup-manifest.js');
  const input = {
    env: 'staging',
    createdAtMs: Date.UTC(2026, 10, 28),
    release: null,
    schemaVersion: 2,
    hasDatabase: false,
    entries: [],
    symlinks: [],
  };
  const withMark = createBackupManifest({ ...input, changeLogSeq: 42 });
  assert.equal(withMark.changeLogSeq, 42);
  assert.equal(parseBackupManifest(JSON.stringify(withMark)).manifest?.changeLogSeq, 42);
  const old = createBackupManifest(input);
  assert.equal('changeLogSeq' in old, false);
  assert.equal(parseBackupManifest(JSON.stringify(old)).manifest?.changeLogSeq, undefined);
});

test('a PostgreSQL manifest names the dump entry and its facts; engine and entry must agree', () => {
  const facts = {
    database: 'dhash',
    serverVersion: '15.18',
    format: 'custom' as const,
    rowCounts: { library_entries: 3 },
  };
  const pg = createBackupManifest({
    env: 'staging',
    createdAtMs: Date.UTC(2026, 10, 28),
    release: null,
    schemaVersion: 2,
    changeLogSeq: 7,
    hasDatabase: true,
    engine: 'postgres',
    postgres: facts,
    entries: [{ path: 'database/dhash.pgdump', sha256: h('d'), size: 10 }],
    symlinks: [],
  });
  assert.equal(pg.engine, 'postgres');
  assert.equal(pg.database, 'database/dhash.pgdump');
  assert.deepEqual(pg.postgres, facts);
  assert.deepEqual(parseBackupManifest(JSON.stringify(pg)), { manifest: pg, problems: [] });
  const actual = new Map([['database/dhash.pgdump', { sha256: h('d'), size: 10 }]]);
  assert.deepEqual(compareWithManifest(pg, actual), []);
  assert.deepEqual(
    compareWithManifest({ ...pg, engine: 'sqlite' }, actual).map((p) => p.message),
    ["the manifest's engine is sqlite but its database entry is database/dhash.pgdump"],
  );
  const { postgres: _facts, ...withoutFacts } = pg;
  assert.deepEqual(
    compareWithManifest(withoutFacts, actual).map((p) => p.message),
    ['a PostgreSQL backup records no `postgres` facts (database, server version, row counts)'],
  );
});
