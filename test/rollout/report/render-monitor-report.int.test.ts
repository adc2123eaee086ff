import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { renderMonitorReport } from '../../../src/rollout/report/render-monitor-report.js';
import { writeMonitorFixture } from '../../helpers/monitor-log-fixture.js';
import { createTempDir } from '../../helpers/temp-dir.js';

// The page's DOM, typed just enough for the checks below (the project compiles without the DOM lib).
interface PageElement {
  id: string;
  textContent: string | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): PageElement[] & { length: number };
  getBoundingClientRect(): { width: number };
  getTotalLength(): number;
}
declare const document: PageElement & { title: string };

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

test('renders a rolled-back deploy as a self-contained page whose charts draw in headless Chromium', async (t) => {
  const root = await createTempDir(t);
  const { deployId } = await writeMonitorFixture(join(root, 'monitor_logs'), { outcome: 'rolled-back' });
  const file = await renderMonitorReport(root, deployId);
  assert.equal(file, join(root, 'monitor_logs', `${deployId}.html`));
  const html = await readFile(file, 'utf8');
  assert.doesNotMatch(
    html,
    /<script|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/,
    'no scripts, no stylesheets, no network',
  );

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('request', (r) => !r.url().startsWith('file:') && problems.push(`network request ${r.url()}`));
  await page.goto(pathToFileURL(file).href);

  const facts = await page.evaluate(() => {
    const charts = [...document.querySelectorAll('svg.chart')];
    return {
      title: document.title,
      badge: document.querySelector('.badge')?.textContent,
      chartIds: charts.map((c) => c.id),
      seriesPathLengths: charts.map((c) => c.querySelector('path.series')!.getTotalLength()),
      thresholds: charts.map((c) => c.querySelectorAll('line.threshold').length),
      violationMarkers: document.querySelectorAll('line.violation-marker').length,
      rollbackBands: document.querySelectorAll('rect.rollback-band').length,
      warningMarkers: document.querySelectorAll('#chart-extractionFailureRate line.warning-marker').length,
      violatedPoints: document.querySelectorAll('#chart-extractionFailureRate circle.point.bad').length,
      pollTicks: document.querySelectorAll('#chart-health line.poll-tick').length,
      healthCells: document.querySelectorAll('#health-strip rect.health.pass').length,
      thresholdLabel: document.querySelector('#chart-extractionFailureRate .threshold-label')?.textContent,
      chartWidth: charts[0]?.getBoundingClientRect().width,
      violatedRows: document.querySelectorAll('.events tr.violated').length,
    };
  });
  assert.equal(facts.title, 'dhash monitor — local — 20261128T012900000Z-0.1.0-abc1234 — rolled-back');
  assert.equal(facts.badge, 'rolled-back');
  assert.deepEqual(facts.chartIds, [
    'chart-health',
    'chart-extractionFailureRate',
    'chart-p95HashTime',
    'chart-lowConfidenceQueue',
    'chart-cpu',
  ]);
  for (const length of facts.seriesPathLengths) assert.ok(length > 50, `every series is drawn (length ${length})`);
  assert.deepEqual(facts.thresholds, [1, 1, 1, 1, 1]);
  assert.equal(facts.violationMarkers, 5, 'the violation is marked on every chart so the timelines line up');
  assert.equal(facts.rollbackBands, 5);
  assert.equal(facts.warningMarkers, 1, 'one run of warnings before the violation');
  assert.equal(facts.violatedPoints, 1);
  assert.equal(facts.pollTicks, 13);
  assert.equal(facts.healthCells, 13);
  assert.equal(facts.thresholdLabel, 'threshold 5 %');
  assert.equal(facts.chartWidth, 760);
  assert.equal(facts.violatedRows, 1);
  assert.deepEqual(problems, []);

  await mkdir(join(repoRoot, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: join(repoRoot, 'test-artifacts', 'monitor-report-rolled-back.png'), fullPage: true });
});
