// The hashing service's public face: image bytes in, imagehash-compatible 64-bit dhash out (exact or fast mode).
export * from './hash-image.js';
