// Builds PDFs in code (pdf-lib) from generated images, including hand-made XObjects with Decode arrays and stencils.
import sharp from 'sharp';
import {
  PDFDocument,
  concatTransformationMatrix,
  drawObject,
  popGraphicsState,
  pushGraphicsState,
  type PDFPage,
} from 'pdf-lib';

/** Deterministic RGB(A) pixels from a seed: gradients plus a little structure, so dhashes differ per seed. */
export function createPixels(width: number, height: number, channels: 1 | 3 | 4, seed: number): Buffer {
  const pixels = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const wave = Math.round(127 + 120 * Math.sin((x * (seed + c + 1)) / 7 + (y * (seed + 2)) / 11));
        pixels[(y * width + x) * channels + c] = c === 3 ? (x * 13 + y * 7 + seed) % 256 : wave;
      }
    }
  }
  return pixels;
}

export async function createJpeg(width: number, height: number, seed: number): Promise<Buffer> {
  return sharp(createPixels(width, height, 3, seed), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

export async function createPng(width: number, height: number, seed: number, channels: 3 | 4 = 3): Promise<Buffer> {
  return sharp(createPixels(width, height, channels, seed), { raw: { width, height, channels } })
    .png()
    .toBuffer();
}

/** Draws an image XObject made from raw samples, which pdf-lib's embed helpers cannot express (Decode arrays). */
export function drawRawImage(
  doc: PDFDocument,
  page: PDFPage,
  image: {
    samples: Buffer;
    width: number;
    height: number;
    colorSpace: 'DeviceGray' | 'DeviceRGB';
    decode?: number[];
    filter?: 'DCTDecode';
  },
): void {
  const dict: Record<string, string | number | boolean | number[]> = {
    Type: 'XObject',
    Subtype: 'Image',
    Width: image.width,
    Height: image.height,
    ColorSpace: image.colorSpace,
    BitsPerComponent: 8,
    ...(image.decode ? { Decode: image.decode } : {}),
  };
  const stream = image.filter
    ? doc.context.stream(image.samples, { ...dict, Filter: image.filter })
    : doc.context.flateStream(image.samples, dict);
  const name = page.node.newXObject('Im', doc.context.register(stream));
  page.pushOperators(
    pushGraphicsState(),
    concatTransformationMatrix(image.width, 0, 0, image.height, 0, 0),
    drawObject(name),
    popGraphicsState(),
  );
}

/** A stencil mask (ImageMask true): a shape painted in the fill colour, not a picture. */
export function drawStencilMask(doc: PDFDocument, page: PDFPage, width: number, height: number): void {
  const bits = Buffer.alloc(Math.ceil(width / 8) * height, 0b10101010);
  const stream = doc.context.flateStream(bits, {
    Type: 'XObject',
    Subtype: 'Image',
    Width: width,
    Height: height,
    ImageMask: true,
    BitsPerComponent: 1,
  });
  const name = page.node.newXObject('Im', doc.context.register(stream));
  page.pushOperators(
    pushGraphicsState(),
    concatTransformationMatrix(width, 0, 0, height, 0, 0),
    drawObject(name),
    popGraphicsState(),
  );
}

export { PDFDocument };
