// Another process on the environment's port: the deploy refuses before changing anything (its health checks would
// reach that process and report its "OK" as the release's), and `dhash serve` says which address is taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { runCliForTest } from '../../helpers/cli.js';
import { createDeployProject, snapshotTree } from '../../helpers/deploy-project.js';
import { useBuiltReleases } from '../../helpers/built-releases.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { getFreePort } from '../../helpers/free-port.js';

const releases = useBuiltReleases('dhash-port-taken-');

/** A stand-in for a second checkout's dhash: answers /health 200 with a dhash-like body on `port`. */
async function startForeignService(t: { after: (fn: () => Promise<void>) => void }, port: number): Promise<Server> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status: 'ok', version: '0.1.0' }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}

test(`a deploy onto a port another process holds is refused in preflight (exit 3) and changes nothing; once \
the port is free it deploys, and a second deploy finds the port held by the service itself`, async (t) => {
  const project = await createDeployProject(t);
  t.after(() => project.stopService());
  const foreign = await startForeignService(t, project.port);
  const envRoot = join(project.root, '.dhash', 'local');
  const before = await snapshotTree(envRoot);

  const refused = await runCliForTest(['deploy', '--env', 'local', '--release', releases.releaseA], {
    cwd: project.root,
  });
  const output = `${refused.stdout}\n${refused.stderr}`;
  assert.equal(refused.exitCode, 3, output);
  assert.match(output, new RegExp(`127\\.0\\.0\\.1:${project.port} already accepts connections, but not from`));
  assert.match(output, /Stop the process holding the port/);
  assert.equal(existsSync(join(envRoot, 'current')), false, 'no release was switched in');
  const after = await snapshotTree(envRoot);
  // The deploy journal may record the refusal; no release, database or pidfile appears.
  for (const path of Object.keys(after).filter((p) => !(p in before)))
    assert.match(path, /^(state\/|logs\/)/, `${path} appeared after a refused deploy`);
  assert.equal(
    Object.keys(after).some((p) => p.startsWith('releases/') || p.endsWith('service.pid')),
    false,
  );

  await new Promise<void>((resolve) => foreign.close(() => resolve()));
  const first = await runCliForTest(['deploy', '--env', 'local', '--release', releases.releaseA], {
    cwd: project.root,
  });
  assert.equal(first.exitCode, 0, `${first.stdout}\n${first.stderr}`);
  assert.match(first.stdout, new RegExp(`127\\.0\\.0\\.1:${project.port} is free for the release`));
  const second = await runCliForTest(['deploy', '--env', 'local', '--release', releases.releaseB], {
    cwd: project.root,
  });
  assert.equal(second.exitCode, 0, `${second.stdout}\n${second.stderr}`);
  assert.match(second.stdout, /is held by the service itself \(running as pid \d+/);
});

test('dhash serve on a taken address exits 1 naming the address and what to do, with no stack', async (t) => {
  const dir = await createTempDir(t);
  const port = await getFreePort();
  await startForeignService(t, port);
  const result = await runCliForTest(
    ['serve', '--port', String(port), '--db', join(dir, 'service.sqlite'), '--migrate'],
    { cwd: dir },
  );
  assert.equal(result.exitCode, 1, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: another process already holds`));
  assert.match(result.stderr, /ss -ltnp/);
  assert.doesNotMatch(result.stderr, /unexpected error|\n\s+at /);
});

test(`a manual rollback while another process holds the port (the service itself stopped) is refused before it \
restores anything (exit 3): the release and the database stay as they were`, async (t) => {
  const project = await createDeployProject(t);
  t.after(() => project.stopService());
  const deployed = await runCliForTest(['deploy', '--env', 'local', '--release', releases.releaseA], {
    cwd: project.root,
  });
  assert.equal(deployed.exitCode, 0, `${deployed.stdout}\n${deployed.stderr}`);
  const backedUp = await runCliForTest(['backup', '--env', 'local'], { cwd: project.root });
  assert.equal(backedUp.exitCode, 0, `${backedUp.stdout}\n${backedUp.stderr}`);
  const backup = join(project.root, /(backups\/dhash_\w+_local\.zip)/.exec(backedUp.stdout)![1]);
  project.stopService();
  await waitForPortFree(project.port);
  await startForeignService(t, project.port);
  const envRoot = join(project.root, '.dhash', 'local');
  const before = await snapshotTree(join(envRoot, 'shared'));
  const currentBefore = await readlink(join(envRoot, 'current'));

  const refused = await runCliForTest(['rollback', '--backup', backup, '--env', 'local', '--force'], {
    cwd: project.root,
  });
  const output = `${refused.stdout}\n${refused.stderr}`;
  assert.equal(refused.exitCode, 3, output);
  assert.match(output, new RegExp(`127\\.0\\.0\\.1:${project.port} already accepts connections, but not from`));
  assert.match(output, /then run the command again/);
  assert.equal(await readlink(join(envRoot, 'current')), currentBefore);
  assert.deepEqual(await snapshotTree(join(envRoot, 'shared')), before, 'the database and config are untouched');
});

/** The stopped service's socket is closed by the kernel once the process is gone; wait for that, with a deadline. */
async function waitForPortFree(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const isTaken = await fetch(`http://127.0.0.1:${port}/health`).then(
      () => true,
      () => false,
    );
    if (!isTaken) return;
    if (Date.now() > deadline) throw new Error(`port ${port} still answers 10 s after the service was stopped`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
