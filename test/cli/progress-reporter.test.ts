import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createProgressReporter, formatBytes } from '../../src/cli/progress-reporter.js';

function capture(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 120 });
  let text = '';
  stream.on('data', (c) => (text += c));
  return { stream, read: () => text };
}

test('prints one plain line per phase start and per quarter when not on a terminal', () => {
  const { stream, read } = capture(false);
  const progress = createProgressReporter(stream, { label: 'backup' });
  for (let done = 0; done <= 100 << 20; done += 5 << 20) progress.update('archive', done, 100 << 20);
  progress.update('verify', 0, 10);
  progress.stop();
  assert.equal(
    read(),
    [
      'backup archive: 0% (0 B of 100.0 MB)',
      'backup archive: 25% (25.0 MB of 100.0 MB)',
      'backup archive: 50% (50.0 MB of 100.0 MB)',
      'backup archive: 75% (75.0 MB of 100.0 MB)',
      'backup archive: 100% (100.0 MB of 100.0 MB)',
      'backup verify: 0% (0 B of 10 B)',
      '',
    ].join('\n'),
  );
});

test('draws a bar on a terminal for large amounts and plain lines for small ones', () => {
  const { stream, read } = capture(true);
  const progress = createProgressReporter(stream, { label: 'backup', minBytes: 1 << 20 });
  progress.update('database', 0, 64 << 20);
  progress.update('database', 64 << 20, 64 << 20);
  progress.stop();
  assert.match(read(), /backup database \[█+\] 100% \| 64.0 MB of 64.0 MB/);
  const small = capture(true);
  const p2 = createProgressReporter(small.stream, { label: 'backup', minBytes: 1 << 20 });
  p2.update('verify', 10, 100);
  p2.stop();
  assert.equal(small.read(), 'backup verify: 0% (10 B of 100 B)\n');
});

test('formats byte counts with binary units', () => {
  assert.deepEqual([0, 1023, 1024, 1536, 10 << 20, 1.5 * 2 ** 30].map(formatBytes), [
    '0 B',
    '1023 B',
    '1.00 KB',
    '1.50 KB',
    '10.0 MB',
    '1.50 GB',
  ]);
});
