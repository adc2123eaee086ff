import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';

const repoGates = fileURLToPath(new URL('../../../quality-gates-config.json', import.meta.url));
const secret = 'https://hooks.slack.com/services/T0001/B0002/verysecrettoken';

async function project(t: Parameters<typeof createTempDir>[0], environments: unknown): Promise<string> {
  const root = await createTempDir(t);
  await writeFile(join(root, 'environments.json'), JSON.stringify(environments, null, 2));
  await copyFile(repoGates, join(root, 'quality-gates-config.json'));
  return root;
}

test(`prints the effective settings per environment with secrets redacted and variables shown as \
set/unset`, async (t) => {
  const root = await project(t, {
    environments: {
      staging: {
        root: '/srv/dhash-staging',
        service: { host: '10.0.0.5', port: 9000, baseUrl: 'https://ops:hunter22@staging.example.com' },
        target: {
          type: 'command',
          start: `curl -X POST ${secret}`,
          stop: 'systemctl stop x',
          status: 'systemctl status x',
        },
        backups: { dir: 'backups', keep: 7 },
      },
    },
  });
  const result = await runCliForTest(['config', 'check', '--env', 'staging'], {
    cwd: root,
    processEnv: { SLACK_WEBHOOK: secret, DHASH_PORT: '9999' },
  });
  assert.equal(result.exitCode, 0, result.stderr);
  const lines = result.stdout.split('\n');
  assert.equal(lines[0], 'environments.json: OK (local, staging)');
  assert.equal(lines[1], 'quality-gates-config.json: OK');
  assert.equal(lines[2], 'note: environments.json has no `local` entry: the embedded default is used for it.');
  assert.ok(lines.includes('  root:      /srv/dhash-staging'));
  assert.ok(lines.includes('  service:   10.0.0.5:9000 (port from config)'));
  assert.ok(lines.includes('  health:    https://ops:[REDACTED]@staging.example.com/health'));
  assert.ok(
    lines.includes(
      '  target:    command (start: curl -X POST [REDACTED]; stop: systemctl stop x; status: systemctl ' +
        'status x; timeout 1m)',
    ),
  );
  assert.ok(lines.includes('  backups:   backups/ (keep 7)'));
  assert.ok(lines.includes('  monitor:   window 1h, poll every 30s for 5m, then every 2m'));
  assert.match(result.stdout, /\nnotification variables: SLACK_WEBHOOK=set TEAMS_WEBHOOK=unset /);
  assert.match(result.stdout, /\nchannels configured: slack\n$/);
  assert.doesNotMatch(result.stdout, /verysecrettoken|hunter22/);
  assert.doesNotMatch(result.stdout, /^local/m);
});

test('lists every problem of both files with its JSON path and exits 2', async (t) => {
  const root = await project(t, {
    environments: { staging: { root: '', service: { port: 70000 }, colour: 'blue' } },
  });
  await writeFile(
    join(root, 'quality-gates-config.json'),
    JSON.stringify({ defaults: { monitor: { window: 'soon', poll: [{ every: '30s' }] }, gates: {} } }),
  );
  const result = await runCliForTest(['config', 'check'], { cwd: root });
  assert.equal(result.exitCode, 2);
  const lines = result.stderr.split('\n');
  assert.match(
    lines[0]!,
    /^dhash: The configuration file environments\.json and quality-gates-config\.json is invalid \(\d+ problems\)\.$/,
  );
  for (const path of [
    'environments.json: environments.staging.root:',
    'environments.json: environments.staging.service.port:',
    'environments.json: environments.staging:',
    'quality-gates-config.json: defaults.monitor.window:',
    'quality-gates-config.json: defaults.gates.health:',
  ]) {
    assert.ok(
      lines.some((l) => l.startsWith(`  - ${path}`)),
      `${path} in\n${result.stderr}`,
    );
  }
  assert.equal(result.stdout, '');
});

test('an unknown --env exits 2 listing the known ones; unparsable JSON names the file', async (t) => {
  const root = await project(t, { environments: { staging: { root: 'x', service: { port: 1 } } } });
  const unknown = await runCliForTest(['config', 'check', '--env', 'prod'], { cwd: root });
  assert.equal(unknown.exitCode, 2);
  assert.equal(
    unknown.stderr,
    'dhash: Unknown environment `prod` given to --env.\nKnown environments: local, staging. Add one ' +
      'under "environments" in environments.json to deploy elsewhere.\n',
  );
  await writeFile(join(root, 'environments.json'), '{ "environments": ');
  const broken = await runCliForTest(['config', 'check'], { cwd: root });
  assert.equal(broken.exitCode, 2);
  assert.match(
    broken.stderr,
    new RegExp(
      '^dhash: The configuration file environments\\.json is invalid \\(1 problem\\)\\.\\n {2}- ' +
        '\\(root\\): The configuration file environments\\.json is not valid JSON\\.',
    ),
  );
});
