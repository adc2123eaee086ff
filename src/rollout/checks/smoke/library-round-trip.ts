// Smoke check: add the fixture to the library, match it back (decision `match`, distance 0), then delete the entry.
type CheckFn = (baseUrl: string, timeoutMs: number, headers: Record<string, string>) => Promise<string>;

interface LibraryEntry {
  id: string | number;
}

interface MatchAnswer {
  decision?: string;
  matches?: { id?: string | number; entryId?: string | number; distance?: number }[];
}

export function createLibraryRoundTripCheck(createImage: () => Promise<Buffer>): CheckFn {
  return async (baseUrl, timeoutMs, headers) => {
    const image = await createImage();
    const label = `dhash-smoke-${Date.now()}`;
    const signal = () => AbortSignal.timeout(timeoutMs);
    const added = await fetch(`${baseUrl}/v1/library?label=${encodeURIComponent(label)}`, {
      method: 'POST',
      body: image,
      headers: { ...headers, 'content-type': 'image/png' },
      signal: signal(),
    });
    const addedText = await added.text();
    if (added.status !== 200 && added.status !== 201)
      throw new Error(`POST /v1/library answered ${added.status} ${addedText.slice(0, 200)}`);
    const entry = JSON.parse(addedText) as LibraryEntry & { entry?: LibraryEntry };
    const id = entry.id ?? entry.entry?.id;
    if (id === undefined) throw new Error(`POST /v1/library returned no id: ${addedText.slice(0, 200)}`);
    let matchError: Error | undefined;
    try {
      const matched = await fetch(`${baseUrl}/v1/match`, {
        method: 'POST',
        body: image,
        headers: { ...headers, 'content-type': 'image/png' },
        signal: signal(),
      });
      const matchText = await matched.text();
      const answer = matched.status === 200 ? (JSON.parse(matchText) as MatchAnswer) : undefined;
      const mine = answer?.matches?.find((m) => String(m.id ?? m.entryId) === String(id));
      if (matched.status !== 200)
        matchError = new Error(`POST /v1/match answered ${matched.status} ${matchText.slice(0, 200)}`);
      else if (answer?.decision !== 'match' || !mine || mine.distance !== 0) {
        matchError = new Error(
          `expected decision match with entry ${id} at distance 0, got ${matchText.slice(0, 300)}`,
        );
      }
    } catch (error) {
      matchError = error as Error;
    }
    // Always clean up, even when matching failed: the smoke test must leave the library as it found it.
    const removed = await fetch(`${baseUrl}/v1/library/${encodeURIComponent(String(id))}`, {
      method: 'DELETE',
      headers,
      signal: signal(),
    });
    await removed.text();
    if (matchError) throw matchError;
    if (removed.status >= 300)
      throw new Error(`DELETE /v1/library/${id} answered ${removed.status}: the smoke entry was left behind`);
    return `library entry ${id} added, matched at distance 0 (decision match), deleted`;
  };
}
