// Runs work over items with a bound on how many run at once that may shrink as it goes, and stops starting new ones.

/**
 * Starts `work(item)` in order while fewer than `getLimit()` run (read again before every start, at least 1), until
 * every item ran or `shouldStop()` says so; work already running is always awaited, never abandoned. `work` should
 * report its outcome rather than throw: a throw stops further starts and is rethrown once the running work settled.
 * Returns the outcomes of the items that ran, in the order of the items.
 */
export async function runLimited<T, R>(
  items: readonly T[],
  options: { getLimit: () => number; shouldStop: () => boolean },
  work: (item: T) => Promise<R>,
): Promise<{ item: T; outcome: R }[]> {
  const done: { index: number; item: T; outcome: R }[] = [];
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for (let index = 0; index < items.length; index++) {
    while (running.size >= Math.max(1, options.getLimit())) await Promise.race(running);
    if (failure || options.shouldStop()) break;
    const item = items[index];
    const task: Promise<void> = work(item).then(
      (outcome) => {
        done.push({ index, item, outcome });
        running.delete(task);
      },
      (error: unknown) => {
        failure ??= { error };
        running.delete(task);
      },
    );
    running.add(task);
  }
  await Promise.all(running);
  if (failure) throw failure.error;
  return done.sort((a, b) => a.index - b.index).map(({ item, outcome }) => ({ item, outcome }));
}
