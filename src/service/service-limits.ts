// The service's input limits and match settings, with defaults; one place so routes and docs agree.
import { DEFAULT_MAX_PIXELS } from './hash/hash-image.js';
import { DEFAULT_MATCH_THRESHOLDS, type MatchThresholds } from './library/index.js';

export interface ServiceLimits {
  /** Largest request body; bigger uploads get 413 EBODYTOOLARGE before any decoding. */
  bodyLimitBytes: number;
  /** Per-image pixel limit (images and each image inside a PDF); Pillow's MAX_IMAGE_PIXELS by default. */
  maxPixels: number;
  /** Budget for poppler on one PDF; the process is killed when it runs out. */
  pdfTimeoutMs: number;
  /** A request (including a slow upload) that takes longer is cut off, so a stalled client cannot pin a socket. */
  requestTimeoutMs: number;
  /** The poppler binary, for hosts where it is not on PATH (and tests of the missing case). */
  pdfimagesCommand: string;
  /** Distance ≤ matchMax is `match`, ≤ reviewMax is `review` (queued), above is `none`. */
  matchThresholds: MatchThresholds;
  /** Most candidates a match answer lists. */
  maxMatches: number;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  bodyLimitBytes: 50 * 1024 * 1024,
  maxPixels: DEFAULT_MAX_PIXELS,
  pdfTimeoutMs: 30_000,
  requestTimeoutMs: 120_000,
  pdfimagesCommand: 'pdfimages',
  matchThresholds: DEFAULT_MATCH_THRESHOLDS,
  maxMatches: 10,
};
