import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDhashError } from '../../../src/lib/errors.js';
import { resolveEnvironmentConfig } from '../../../src/rollout/config/environments.js';
import { environmentSchema } from '../../../src/rollout/config/environments-schema.js';
import { getHostMatcher, resolveFleetConfig } from '../../../src/rollout/fleet/fleet-config.js';
import { describeFleetStatus } from '../../../src/rollout/fleet/fleet-status.js';
import { createFleetFixture, OLD_RELEASE } from './helpers/fleet-fixture.js';

test('status shows every host as it reports itself, a host not reached, and the wave in progress', async (t) => {
  const f = await createFleetFixture(t);
  const before = await describeFleetStatus({
    environment: f.environment,
    createHostOps: (h) => f.host(h.name),
    nowMs: f.clock.now(),
  });
  assert.deepEqual(before.slice(0, 2), [
    'Environment production: a fleet of 3 host(s) over ssh (waves [1,"100%"], bake 4s, maxUnavailable 0)',
    'Rollout: none recorded on this machine yet.',
  ]);
  const result = await f.run();
  assert.equal(result.exitCode, 0, result.message);
  f.host('web-3').reachability = 'down';
  const lines = await describeFleetStatus({
    environment: f.environment,
    createHostOps: (h) => f.host(h.name),
    nowMs: f.clock.now(),
  });
  assert.match(lines[1], new RegExp(`^Rollout production-\\S+ of ${f.releaseId}: succeeded \\(started `));
  assert.equal(lines[2], '  last wave: 2 of 2 (web-2, web-3): held');
  const hostLines = lines.slice(lines.indexOf('Hosts (as each host reports itself over ssh):') + 1);
  assert.deepEqual(hostLines, [
    `  web-1  current ${f.releaseId}, previous ${OLD_RELEASE}; service running, health OK  [rollout: wave 1, active]`,
    `  web-2  current ${f.releaseId}, previous ${OLD_RELEASE}; service running, health OK  [rollout: wave 2, active]`,
    '  web-3  NOT REACHED: The host web-3 cannot be reached at 10.88.2.2:22: Connection timed out.' +
      '  [rollout: wave 2, active]',
  ]);
});

test('a fleet needs Prometheus and PostgreSQL: every missing piece is named by its JSON path at once', () => {
  const config = environmentSchema.parse({
    root: 'x',
    service: { port: 8787 },
    target: { type: 'ssh', hosts: [{ name: 'web-1', address: '10.0.0.2', root: '/srv/dhash' }], waves: [2] },
  });
  const environment = resolveEnvironmentConfig('/tmp', 'production', config, {});
  assert.throws(
    () => resolveFleetConfig(environment),
    (error: unknown) => {
      assert.ok(isDhashError(error, 'EINVALIDCONFIG'));
      assert.deepEqual(
        error.details
          .split('\n')
          .slice(0, 3)
          .map((l) => l.split(':')[0].trim()),
        [
          '- environments.production.target.waves[0]',
          '- environments.production.signals.source',
          '- environments.production.database.engine',
        ],
      );
      return true;
    },
  );
});

test('a host is told apart in PromQL by instance (address:port) or by its host label', async (t) => {
  const f = await createFleetFixture(t);
  const host = f.host('web-2').host;
  assert.equal(getHostMatcher(f.environment, host, 'instance'), 'instance="10.88.1.2:8787"');
  assert.equal(getHostMatcher(f.environment, host, 'host'), 'host="web-2"');
  assert.equal(
    getHostMatcher(f.environment, { ...host, serviceAddress: 'fd00::2' }, 'instance'),
    'instance="[fd00::2]:8787"',
  );
});
