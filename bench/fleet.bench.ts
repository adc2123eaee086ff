// Times a three-host fleet rollout wave by wave (waves [1, "100%"]) against the same rollout done host by host
// (waves [1, 2, 3]) with the same bake, on real parts: three network-namespace hosts with sshd, PostgreSQL, Prometheus
// scraping every second, real artifacts copied and verified on each host, real traffic during every bake.
// Usage: npm run bench:fleet  (as root; BENCH_BAKE=5s, BENCH_MAX_UNAVAILABLE=1, BENCH_ROUNDS=1)
// Rounds alternate the order (waves first, then host by host first) so neither always runs on a warmer cache.
import type { JournalEntry } from '../src/rollout/state/journal.js';
import { readJournal } from '../src/rollout/state/journal.js';
import { parseDurationMs } from '../src/rollout/core/duration.js';
import { createFleetLab, type FleetLab } from '../test/e2e/fleet-lab.js';

const bake = process.env.BENCH_BAKE ?? '5s';
const maxUnavailable = Number(process.env.BENCH_MAX_UNAVAILABLE ?? 1);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const secs = (ms: number) => (ms / 1000).toFixed(1);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

interface WaveTiming {
  wave: number;
  hosts: string[];
  /** From the wave's first host step to the start of its bake: service env, copy + verify, activate. */
  updateMs: number;
  bakeMs: number;
  totalMs: number;
}

interface RolloutTiming {
  waves: WaveTiming[];
  /** From deploy:start to deploy:finish (backup and migration included). */
  totalMs: number;
}

const cleanups: (() => Promise<void>)[] = [];
const cleanUp = async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
};
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

try {
  console.log(`Setting up three hosts, PostgreSQL and Prometheus (bake ${bake}, maxUnavailable ${maxUnavailable})…`);
  const lab = await createFleetLab({ after: (fn) => void cleanups.push(fn) });
  // Every host serves a release first, so both rollouts below switch from a previous release as in production.
  await lab.configure({ waves: ['100%'], bake: '3s', maxUnavailable: 2 });
  await rollOut(lab, lab.goodArtifact);
  const byWave: RolloutTiming[] = [];
  const byHost: RolloutTiming[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['waves', 'hosts'] as const) : (['hosts', 'waves'] as const);
    for (const kind of order) {
      await lab.configure({ waves: kind === 'waves' ? [1, '100%'] : [1, 2, 3], bake, maxUnavailable });
      const artifact = await lab.createVariant(`bench-${kind}-${round}`);
      (kind === 'waves' ? byWave : byHost).push(await rollOut(lab, artifact));
    }
  }
  printResults(byWave, byHost);
} finally {
  await cleanUp();
}

/** One rollout with PNG traffic running, timed from the controller's journal. */
async function rollOut(lab: FleetLab, artifact: string): Promise<RolloutTiming> {
  const traffic = lab.startTraffic(() => 'png');
  const result = await lab.deploy(artifact);
  await traffic.stop();
  if (result.exitCode !== 0)
    throw new Error(`the rollout failed (exit ${result.exitCode}):\n${result.stdout}${result.stderr}`);
  const journal = await readJournal(await lab.getEnvironment());
  const deployId = [...journal].reverse().find((e) => e.step === 'deploy:start')!.deployId;
  return getTimings(journal.filter((e) => e.deployId === deployId));
}

function getTimings(entries: JournalEntry[]): RolloutTiming {
  const at = (e: JournalEntry | undefined) => (e ? Date.parse(e.time) : NaN);
  const numbers = [...new Set(entries.map((e) => e.wave).filter((w): w is number => typeof w === 'number'))].sort();
  const waves = numbers.map((wave) => {
    const mine = entries.filter((e) => e.wave === wave);
    const start = at(mine[0]);
    const bakeStart = at(mine.find((e) => e.step === 'fleet:bake' && e.status === 'started'));
    const bakeEnd = at(mine.find((e) => e.step === 'fleet:bake' && e.status !== 'started'));
    const hosts = [...new Set(mine.map((e) => e.host).filter((h): h is string => typeof h === 'string'))];
    return { wave, hosts, updateMs: bakeStart - start, bakeMs: bakeEnd - bakeStart, totalMs: bakeEnd - start };
  });
  const first = at(entries.find((e) => e.step === 'deploy:start'));
  const last = at(entries.find((e) => e.step === 'deploy:finish'));
  return { waves, totalMs: last - first };
}

function printResults(byWave: RolloutTiming[], byHost: RolloutTiming[]): void {
  const columns = [
    { title: 'waves [1, "100%"]', runs: byWave },
    { title: 'host by host [1, 2, 3]', runs: byHost },
  ];
  const waveCount = Math.max(...columns.map((c) => c.runs[0].waves.length));
  const cell = (runs: RolloutTiming[], wave: number) => {
    const w = runs.map((r) => r.waves[wave]).filter(Boolean);
    if (w.length === 0) return '-';
    const hosts = w[0].hosts.join(', ');
    return (
      `${secs(mean(w.map((x) => x.totalMs)))} s ` +
      `(update ${secs(mean(w.map((x) => x.updateMs)))} + bake ${secs(mean(w.map((x) => x.bakeMs)))}; ${hosts})`
    );
  };
  console.log(
    `\nThree-host rollout, bake ${bake} (${parseDurationMs(bake)} ms), ` +
      `maxUnavailable ${maxUnavailable}, ${rounds} round(s):`,
  );
  console.log(`${''.padEnd(10)}${columns.map((c) => c.title.padEnd(58)).join('')}`);
  for (let i = 0; i < waveCount; i++)
    console.log(`${`wave ${i + 1}`.padEnd(10)}${columns.map((c) => cell(c.runs, i).padEnd(58)).join('')}`);
  const totals = columns.map((c) => mean(c.runs.map((r) => r.totalMs)));
  console.log(
    `${'total'.padEnd(10)}${totals.map((t) => `${secs(t)} s (backup, migrate and every wave)`.padEnd(58)).join('')}`,
  );
  console.log('');
  for (const [i] of byWave[0].waves.entries())
    console.log(`target fleet_wave_${i + 1}_s ${secs(mean(byWave.map((r) => r.waves[i]?.totalMs ?? NaN)))} s`);
  for (const [i] of byHost[0].waves.entries())
    console.log(
      `target fleet_host_by_host_wave_${i + 1}_s ${secs(mean(byHost.map((r) => r.waves[i]?.totalMs ?? NaN)))} s`,
    );
  console.log(`target fleet_wave_rollout_s ${secs(totals[0])} s`);
  console.log(`target fleet_host_by_host_rollout_s ${secs(totals[1])} s`);
  console.log(`target fleet_wave_speedup_x ${(totals[1] / totals[0]).toFixed(2)} x`);
}
