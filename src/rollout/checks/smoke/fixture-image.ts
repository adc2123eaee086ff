// The smoke tests' fixture: a 64×48 PNG gradient drawn in code, and its dhash verified once against Pillow +
// imagehash.
import sharp from 'sharp';

/**
 * imagehash.dhash of the fixture, computed with Pillow (`convert("L").resize((9, 8), LANCZOS)`) — not by our own
 * code.
 */
export const FIXTURE_EXPECTED_HASH = 'debebc3c7c79f9b3';

export async function createFixturePng(): Promise<Buffer> {
  const width = 64;
  const height = 48;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = (x * 4 + y * 2) % 256;
      pixels[i + 1] = (x * x + y * 7) % 256;
      pixels[i + 2] = (((255 - y * 5 + x) % 256) + 256) % 256;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
