// PDF extraction: the hashes of the raster images a PDF shows, and whether this host can extract at all.
export { extractPdfImages, type ExtractPdfOptions, type PdfImageHash } from './extract-images.js';
export { getPdfCapability, type PdfCapability } from './poppler.js';
export { PdfInputError, isPdfInputError, type PdfErrorCode } from './pdf-input-error.js';
