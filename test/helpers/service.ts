// Starts the real HTTP service in-process on 127.0.0.1:0 over
// a migrated SQLite file in a temp dir, and reads its metrics.
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createTempDir } from './temp-dir.js';
import { openDatabase, closeDatabase, type Db } from '../../src/service/store/database.js';
import { createSqliteStore } from '../../src/service/store/sqlite-store.js';
import { createServiceMetrics, type ServiceMetrics } from '../../src/service/metrics.js';
import { createServer } from '../../src/service/server.js';
import { createRequestLogger } from '../../src/service/http/request-logger.js';
import { createRedactor } from '../../src/lib/redact.js';
import { loadLibraryIndex, type HashIndex } from '../../src/service/library/index.js';
import type { ServiceLimits } from '../../src/service/service-limits.js';
import type { AdmissionLimits } from '../../src/service/http/admission.js';

export interface TestService {
  url: string;
  app: FastifyInstance;
  db: Db;
  index: HashIndex;
  metrics: ServiceMetrics;
  /** Every JSON log line written so far. */
  readLogLines(): Record<string, unknown>[];
  /** Current value of one sample, e.g. `dhash_extractions_total{outcome="failure"}`. */
  readMetric(sample: string): Promise<number>;
}

export async function startTestService(
  t: TestContext,
  options: { limits?: Partial<ServiceLimits>; admission?: Partial<AdmissionLimits>; env?: Record<string, string> } = {},
): Promise<TestService> {
  const dir = await createTempDir(t);
  const db = openDatabase(join(dir, 'dhash.sqlite'), { migrate: true });
  const metrics = createServiceMetrics({ version: '9.8.7-test', shouldCollectDefaults: false });
  const stream = new PassThrough();
  let logText = '';
  stream.on('data', (chunk) => (logText += chunk));
  const logger = createRequestLogger({ stream, redact: createRedactor(options.env ?? {}) });
  const index = loadLibraryIndex(db);
  const app = createServer({
    store: createSqliteStore(db),
    index,
    metrics,
    logger,
    version: '9.8.7-test',
    limits: options.limits,
    admission: options.admission,
  });
  t.after(async () => {
    await app.close();
    closeDatabase(db);
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    app,
    db,
    index,
    metrics,
    readLogLines: () =>
      logText
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    readMetric: async (sample) => readSample(await (await fetch(`${url}/metrics`)).text(), sample),
  };
}

/** The value of one exposition sample line (name plus labels exactly as printed); throws when absent. */
export function readSample(text: string, sample: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  throw new Error(`No sample ${sample} in the metrics text.`);
}
