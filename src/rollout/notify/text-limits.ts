// Length limits counted the way receivers count them: code points for text limits, UTF-8 bytes for bodies.

/** Cuts `text` to at most `maxCodePoints` code points, ending in "…" when cut; never splits a surrogate pair. */
export function truncateCodePoints(text: string, maxCodePoints: number): string {
  const points = Array.from(text);
  if (points.length <= maxCodePoints) return text;
  if (maxCodePoints <= 0) return '';
  return points.slice(0, maxCodePoints - 1).join('') + '…';
}

/** The byte length on the wire (what Content-Length must say), not the UTF-16 `length`. */
export function getUtf8ByteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
