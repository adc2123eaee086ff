import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatBackupName,
  formatBackupTempName,
  formatBackupTimestamp,
  formatChecksumLine,
  isBackupTempName,
  parseBackupName,
  parseBackupTimestamp,
  parseChecksumLine,
  sortBackupNamesNewestFirst,
} from '../../../src/rollout/core/backup-name.js';

const at = Date.UTC(2026, 10, 28, 0, 45, 12, 123);

test('formats the UTC timestamp to the millisecond with fixed width', () => {
  assert.equal(formatBackupTimestamp(at), '20261128T004512123Z');
  assert.equal(formatBackupTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), '20260102T030405006Z');
  assert.equal(formatBackupName('production', at), 'dhash_20261128T004512123Z_production.zip');
});

test('parses what it formats and rejects impossible instants', () => {
  assert.equal(parseBackupTimestamp('20261128T004512123Z'), at);
  assert.equal(parseBackupTimestamp('20261332T004512123Z'), null);
  assert.equal(parseBackupTimestamp('20261128T004512123'), null);
  assert.deepEqual(parseBackupName('dhash_20261128T004512123Z_staging.zip'), {
    name: 'dhash_20261128T004512123Z_staging.zip',
    stamp: '20261128T004512123Z',
    env: 'staging',
    createdAtMs: at,
  });
  assert.equal(parseBackupName('dhash_20261128T004512123Z_staging.zip.sha256'), null);
  assert.equal(parseBackupName('.dhash_20261128T004512123Z_staging.zip.tmp-abc'), null);
  assert.equal(parseBackupName('dhash_20261128T004512123Z_Staging.zip'), null);
});

test('names sort chronologically, newest first, across day, month and year boundaries', () => {
  const times = [
    Date.UTC(2026, 11, 31, 23, 59, 59, 999),
    Date.UTC(2027, 0, 1, 0, 0, 0, 0),
    Date.UTC(2026, 8, 9, 10, 0, 0, 1),
    Date.UTC(2026, 8, 9, 10, 0, 0, 0),
    Date.UTC(2026, 9, 1, 0, 0, 0, 0),
  ];
  const names = times.map((t) => formatBackupName('local', t));
  const expected = [...times].sort((a, b) => b - a).map((t) => formatBackupName('local', t));
  assert.deepEqual(sortBackupNamesNewestFirst([...names, 'README.md', '.dhash_x.zip.tmp-1']), expected);
  // Lexical order of the names is the same order: `ls | sort -r` agrees.
  assert.deepEqual([...names].sort().reverse(), expected);
});

test('temp names are dot-prefixed and recognised', () => {
  const temp = formatBackupTempName('dhash_20261128T004512123Z_local.zip', 'ab12');
  assert.equal(temp, '.dhash_20261128T004512123Z_local.zip.tmp-ab12');
  assert.equal(isBackupTempName(temp), true);
  assert.equal(isBackupTempName('dhash_20261128T004512123Z_local.zip'), false);
});

test('checksum lines use the sha256sum format and parse back', () => {
  const hex = 'a'.repeat(64);
  assert.equal(formatChecksumLine(hex, 'backups/x.zip'), `${hex}  backups/x.zip\n`);
  assert.deepEqual(parseChecksumLine(`${hex}  backups/x.zip\n`), { sha256: hex, path: 'backups/x.zip' });
  assert.deepEqual(parseChecksumLine(`${'A'.repeat(64)} *backups/x.zip`), { sha256: hex, path: 'backups/x.zip' });
  assert.equal(parseChecksumLine(`${'a'.repeat(63)}  backups/x.zip`), null);
  assert.equal(parseChecksumLine(''), null);
});
