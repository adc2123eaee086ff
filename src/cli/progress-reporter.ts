// Progress for long byte-counting steps:
// a cli-progress bar on a terminal, a few plain lines otherwise (logs, CI, pipes).
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';

export interface ProgressReporter {
  /** Reports `doneBytes` of `totalBytes` for `phase`; a new phase starts a new bar or line series. */
  update(phase: string, doneBytes: number, totalBytes: number): void;
  stop(): void;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/**
 * `isTty` and at least `minBytes` in total → a bar per phase on `stream`; otherwise one line per phase start and per
 * quarter done, so a log file shows that the backup moves without a line per chunk.
 */
export function createProgressReporter(
  stream: Writable & { isTTY?: boolean },
  options: { label: string; minBytes?: number },
): ProgressReporter {
  const isTty = stream.isTTY === true;
  let phase = '';
  let bar: cliProgress.SingleBar | null = null;
  let lastQuarter = -1;
  const stopBar = () => {
    bar?.stop();
    bar = null;
  };
  return {
    update(nextPhase, doneBytes, totalBytes) {
      if (totalBytes <= 0) return;
      if (nextPhase !== phase) {
        stopBar();
        phase = nextPhase;
        lastQuarter = -1;
        if (isTty && totalBytes >= (options.minBytes ?? 32 << 20)) {
          bar = new cliProgress.SingleBar(
            {
              stream,
              format:
                `${options.label} ${phase.padEnd(8)} [{bar}] {percentage}% ` +
                '| {doneText} of {totalText} | ETA {eta_formatted}',
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(totalBytes, 0, { doneText: formatBytes(0), totalText: formatBytes(totalBytes) });
        }
      }
      if (bar) {
        bar.setTotal(totalBytes);
        bar.update(Math.min(doneBytes, totalBytes), {
          doneText: formatBytes(doneBytes),
          totalText: formatBytes(totalBytes),
        });
        return;
      }
      const quarter = Math.min(4, Math.floor((doneBytes / totalBytes) * 4));
      if (quarter > lastQuarter) {
        lastQuarter = quarter;
        stream.write(
          `${options.label} ${phase}: ${quarter * 25}% (${formatBytes(doneBytes)} of ${formatBytes(totalBytes)})\n`,
        );
      }
    },
    stop: stopBar,
  };
}
