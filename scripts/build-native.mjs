// Compiles the native hashing addon (native/) with node-gyp at
// `npm ci`; without the system headers it says so and steps aside.
//
// Usage: node scripts/build-native.mjs [--strict]
// Without --strict a missing header or a failed build prints one line and exits 0, so `npm ci` works on a bare machine
// (hashing then falls back to sharp). With --strict (the set-up command, `npm run build:native`) it exits 1.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NATIVE_DIR = join(ROOT, 'native');
const ADDON = join(NATIVE_DIR, 'build', 'Release', 'dhash_native.node');
const REQUIRED_HEADERS = [
  { file: '/usr/include/jpeglib.h', packageName: 'libjpeg62-turbo-dev' },
  { file: '/usr/include/zlib.h', packageName: 'zlib1g-dev' },
];

/** npm sets npm_config_node_gyp for lifecycle scripts; outside npm, the node-gyp bundled with npm beside this node. */
function findNodeGyp(processEnv) {
  const candidates = [
    processEnv.npm_config_node_gyp,
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  return candidates.find((file) => file && existsSync(file));
}

/** The installed Node headers (e.g. /usr/include/node), so node-gyp never downloads them: npm ci must work offline. */
function findNodeDir(processEnv) {
  if (
    processEnv.npm_config_nodedir &&
    existsSync(join(processEnv.npm_config_nodedir, 'include', 'node', 'node_api.h'))
  ) {
    return processEnv.npm_config_nodedir;
  }
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function findProblem(processEnv) {
  const missing = REQUIRED_HEADERS.filter((h) => !existsSync(h.file)).map((h) => h.packageName);
  if (missing.length > 0)
    return { message: `missing ${missing.join(', ')} (headers ${REQUIRED_HEADERS.map((h) => h.file).join(', ')})` };
  if (spawnSync('cc', ['--version'], { stdio: 'ignore' }).status !== 0)
    return { message: 'no C compiler (cc); install build-essential' };
  if (findNodeGyp(processEnv) === undefined) return { message: 'node-gyp not found (it ships with npm)' };
  if (findNodeDir(processEnv) === undefined)
    return { message: `no Node headers beside ${process.execPath} (include/node/node_api.h)` };
  return undefined;
}

function buildAddon(processEnv) {
  const args = [
    findNodeGyp(processEnv),
    'rebuild',
    `--directory=${NATIVE_DIR}`,
    `--nodedir=${findNodeDir(processEnv)}`,
  ];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', env: processEnv });
  if (result.status === 0 && existsSync(ADDON)) return undefined;
  const log = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const firstError = log.split('\n').find((line) => /error/i.test(line)) ?? `node-gyp exited with ${result.status}`;
  return { message: `node-gyp failed: ${firstError.trim()}`, log };
}

function main(argv, processEnv) {
  const isStrict = argv.includes('--strict');
  const problem = findProblem(processEnv) ?? buildAddon(processEnv);
  if (problem === undefined) {
    console.log(`dhash native decoder built: ${ADDON}`);
    return 0;
  }
  if (isStrict && problem.log) console.error(problem.log.trimEnd());
  const outcome = isStrict ? 'failed' : 'skipped, hashing falls back to sharp';
  console.error(
    `dhash native decoder ${outcome}: ${problem.message}. Install libjpeg62-turbo-dev, then run npm run build:native.`,
  );
  return isStrict ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2), process.env);
