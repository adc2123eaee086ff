// shared/service.env: written and read back the same, refused when another user could read it, named in systemd
// units.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDhashError } from '../../../src/lib/errors.js';
import { EMBEDDED_LOCAL, resolveEnvironmentConfig } from '../../../src/rollout/config/environments.js';
import {
  formatServiceEnv,
  parseServiceEnv,
  readServiceEnv,
  validateServiceEnvVars,
} from '../../../src/rollout/host/service-env.js';
import { getUnitText } from '../../../src/rollout/target/systemd/systemd-driver.js';
import { createTempDir } from '../../helpers/temp-dir.js';

test('variables written by formatServiceEnv parse back to exactly the same values', () => {
  const vars = {
    DHASH_DATABASE_URL: 'postgres://dhash:p@ss w0rd%21@db.internal:5432/dhash',
    DHASH_API_TOKENS: 'ops:admin:abc123,ci:read:def456',
    EMPTY: '',
  };
  const text = formatServiceEnv(vars);
  assert.ok(text.includes("DHASH_DATABASE_URL='postgres://dhash:p@ss w0rd%21@db.internal:5432/dhash'\n"), text);
  assert.ok(text.includes('DHASH_API_TOKENS=ops:admin:abc123,ci:read:def456\n'), text);
  assert.deepEqual(parseServiceEnv(text, 'service.env'), vars);
});

test('a bad name, a line break, or a quote in a value that needs quoting is refused, naming the variable', () => {
  assert.deepEqual(validateServiceEnvVars({ 'lower-case': 'x', OK: 'fine', NL: 'a\nb', Q: "it's secret" }), [
    '`lower-case` is not an environment variable name (A-Z, 0-9, _)',
    'NL: the value holds a line break or NUL',
    "Q: a value with spaces or symbols may not also hold ' or \\",
  ]);
  assert.throws(
    () => formatServiceEnv({ NL: 'top\nsecret' }),
    (error) => isDhashError(error, 'ESERVICEENVINVALID') && !error.details.includes('secret'),
  );
});

test('a malformed line is ESERVICEENVINVALID naming its line number', () => {
  assert.throws(
    () => parseServiceEnv('# comment\nA=1\nnot a pair\n', '/srv/dhash/shared/service.env'),
    (error) => isDhashError(error, 'ESERVICEENVINVALID') && /line 3 is not NAME=value/.test(error.details),
  );
});

test('readServiceEnv: absent is empty, 0600 is read, 0640 is ESERVICEENVMODE (exit 3)', async (t) => {
  const environment = resolveEnvironmentConfig(await createTempDir(t), 'local', EMBEDDED_LOCAL, {});
  assert.deepEqual(await readServiceEnv(environment), {
    file: join(environment.sharedDir, 'service.env'),
    isPresent: false,
    vars: {},
  });
  await mkdir(environment.sharedDir, { recursive: true });
  const file = join(environment.sharedDir, 'service.env');
  await writeFile(file, 'DHASH_API_TOKENS=ops:admin:abcdef\n', { mode: 0o600 });
  assert.deepEqual((await readServiceEnv(environment)).vars, { DHASH_API_TOKENS: 'ops:admin:abcdef' });
  await chmod(file, 0o640);
  await assert.rejects(readServiceEnv(environment), (error) => {
    assert.ok(isDhashError(error, 'ESERVICEENVMODE'));
    assert.equal(error.message, `The service environment file ${file} has mode 0640; it must be 0600.`);
    assert.equal(error.exitCode, 3);
    return true;
  });
});

test('the systemd unit reads shared/service.env when it exists (EnvironmentFile with -)', async (t) => {
  const environment = resolveEnvironmentConfig(await createTempDir(t), 'local', EMBEDDED_LOCAL, {});
  const target = { type: 'systemd' as const, unitName: 'dhash.service', unitDir: '/tmp', user: undefined };
  assert.ok(getUnitText(environment, target).includes(`\nEnvironmentFile=-${environment.sharedDir}/service.env\n`));
});
