// Sorted-by-id runs of (id, hi, lo) for HashIndex: sorting bulk input and merging runs in linear time.

/** Parallel arrays: entry i is (ids[i], hi[i] << 32 | lo[i]). */
export interface EntryRun {
  ids: Float64Array;
  hi: Uint32Array;
  lo: Uint32Array;
}

/** The input itself when already strictly increasing, else a sorted copy; of equal ids the last one is kept. */
export function sortRun(run: EntryRun): EntryRun {
  const { ids, hi, lo } = run;
  let isSorted = true;
  for (let i = 1; i < ids.length && isSorted; i++) isSorted = ids[i - 1] < ids[i];
  if (isSorted) return run;
  const order = new Int32Array(ids.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  // Ties by position, so "last one wins" below is well defined.
  order.sort((a, b) => ids[a] - ids[b] || a - b);
  let n = 0;
  for (let i = 0; i < order.length; i++)
    if (i === order.length - 1 || ids[order[i]] !== ids[order[i + 1]]) order[n++] = order[i];
  const out = createRun(n);
  for (let i = 0; i < n; i++) {
    out.ids[i] = ids[order[i]];
    out.hi[i] = hi[order[i]];
    out.lo[i] = lo[order[i]];
  }
  return out;
}

/** Merges two sorted runs into one; on an id in both, `newer`'s entry is kept. */
export function mergeRuns(older: EntryRun, newer: EntryRun): EntryRun {
  const out = createRun(older.ids.length + newer.ids.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < older.ids.length || j < newer.ids.length) {
    const takeNewer = i === older.ids.length || (j < newer.ids.length && newer.ids[j] <= older.ids[i]);
    if (takeNewer && i < older.ids.length && older.ids[i] === newer.ids[j]) i++;
    const from = takeNewer ? newer : older;
    const k = takeNewer ? j++ : i++;
    out.ids[n] = from.ids[k];
    out.hi[n] = from.hi[k];
    out.lo[n] = from.lo[k];
    n++;
  }
  return n === out.ids.length ? out : sliceRun(out, 0, n);
}

/** The entries of `run` whose `alive` flag is set, in order. */
export function filterRun(run: EntryRun, alive: Uint8Array, liveCount: number): EntryRun {
  if (liveCount === run.ids.length) return run;
  const out = createRun(liveCount);
  let n = 0;
  for (let i = 0; i < run.ids.length; i++) {
    if (alive[i] === 0) continue;
    out.ids[n] = run.ids[i];
    out.hi[n] = run.hi[i];
    out.lo[n] = run.lo[i];
    n++;
  }
  return out;
}

export function createRun(size: number): EntryRun {
  return { ids: new Float64Array(size), hi: new Uint32Array(size), lo: new Uint32Array(size) };
}

export function sliceRun(run: EntryRun, start: number, end: number): EntryRun {
  return { ids: run.ids.slice(start, end), hi: run.hi.slice(start, end), lo: run.lo.slice(start, end) };
}
