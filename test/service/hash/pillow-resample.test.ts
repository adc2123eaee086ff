// Pillow's LANCZOS on 'L' images, checked against outputs Pillow 9.4 computed once for these literal inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeLanczos,
  computeResampleCoefficients,
  resizeGrayLanczos,
} from '../../../src/service/hash/pillow-resample.js';

// Expected values were produced with Debian's Pillow 9.4.0:
//   im = Image.new('L', (w, h)); im.putdata(pixels); list(im.resize((ow, oh), Image.LANCZOS).getdata())
// Any drift in support, centring, rounding of the 22-bit weights or clipping changes several of them.
const CASES: { name: string; w: number; h: number; ow: number; oh: number; input: number[]; expected: number[] }[] = [
  {
    name: 'downscales 12 wide and upscales 5 high to 9x8',
    w: 12,
    h: 5,
    ow: 9,
    oh: 8,
    input: [
      165, 77, 202, 24, 37, 48, 187, 29, 109, 19, 44, 222, 214, 35, 123, 46, 217, 30, 63, 114, 31, 203, 25, 113, 23, 68,
      148, 214, 73, 60, 157, 92, 52, 96, 190, 49, 32, 30, 105, 254, 218, 160, 238, 232, 185, 153, 127, 92, 124, 41, 153,
      253, 175, 229, 147, 37, 60, 214, 84, 175,
    ],
    expected: [
      120, 155, 84, 0, 142, 87, 69, 7, 195, 153, 112, 76, 78, 88, 89, 88, 51, 139, 157, 68, 97, 159, 32, 90, 92, 126,
      66, 68, 97, 172, 88, 73, 88, 44, 158, 77, 5, 97, 223, 89, 144, 169, 83, 151, 96, 22, 57, 230, 198, 190, 245, 176,
      139, 97, 72, 69, 233, 216, 203, 129, 146, 147, 123, 102, 90, 234, 194, 198, 19, 93, 158, 141,
    ],
  },
  {
    name: 'downscales 20x16 to 9x8',
    w: 20,
    h: 16,
    ow: 9,
    oh: 8,
    input: [
      77, 250, 215, 20, 39, 160, 174, 179, 254, 233, 35, 47, 138, 242, 33, 31, 158, 228, 145, 197, 177, 11, 236, 181,
      86, 59, 252, 30, 111, 147, 66, 126, 203, 200, 254, 41, 85, 229, 205, 142, 70, 220, 142, 212, 183, 194, 118, 77,
      42, 90, 77, 118, 119, 6, 248, 93, 134, 144, 2, 74, 214, 189, 163, 64, 27, 233, 200, 203, 204, 201, 53, 246, 205,
      31, 97, 34, 106, 225, 83, 56, 174, 26, 52, 0, 77, 51, 186, 13, 36, 106, 192, 76, 129, 177, 186, 242, 62, 59, 249,
      238, 245, 247, 159, 43, 73, 52, 175, 135, 245, 82, 11, 105, 185, 75, 13, 152, 46, 133, 187, 85, 182, 114, 168,
      114, 99, 122, 205, 116, 102, 252, 182, 14, 14, 143, 241, 132, 99, 176, 228, 178, 186, 41, 112, 52, 116, 240, 100,
      172, 104, 247, 0, 245, 176, 43, 61, 198, 102, 244, 91, 222, 170, 44, 202, 237, 205, 43, 81, 87, 65, 14, 77, 238,
      74, 242, 179, 79, 67, 10, 7, 52, 71, 222, 99, 108, 14, 128, 108, 149, 123, 166, 132, 214, 67, 31, 181, 234, 215,
      66, 77, 9, 225, 93, 2, 76, 88, 72, 242, 61, 31, 166, 247, 54, 29, 127, 97, 141, 21, 50, 231, 14, 32, 226, 166,
      102, 141, 231, 244, 126, 132, 103, 229, 70, 213, 62, 200, 226, 161, 37, 123, 219, 37, 108, 155, 62, 79, 187, 73,
      129, 70, 239, 112, 48, 203, 249, 83, 114, 82, 220, 206, 173, 215, 100, 182, 163, 47, 187, 9, 173, 234, 225, 9,
      196, 169, 151, 32, 57, 117, 53, 43, 135, 139, 20, 92, 138, 66, 216, 132, 207, 76, 253, 167, 45, 142, 29, 93, 217,
      37, 137, 8, 45, 133, 42, 113, 34, 135, 62, 232, 5, 173, 213, 137, 66, 22, 122, 56, 82, 134, 25, 92, 103,
    ],
    expected: [
      153, 145, 118, 162, 104, 136, 141, 130, 179, 151, 131, 162, 118, 117, 145, 117, 128, 96, 180, 46, 95, 148, 117,
      113, 132, 112, 179, 146, 123, 144, 146, 137, 106, 128, 137, 170, 124, 131, 101, 94, 123, 138, 142, 110, 33, 135,
      78, 165, 119, 160, 99, 153, 122, 135, 125, 133, 120, 154, 142, 157, 123, 105, 136, 96, 87, 132, 149, 171, 69, 91,
      91, 50,
    ],
  },
  {
    name: 'downscales 7x11 to 3x2',
    w: 7,
    h: 11,
    ow: 3,
    oh: 2,
    input: [
      159, 156, 105, 148, 228, 91, 138, 177, 9, 128, 18, 7, 9, 97, 243, 125, 228, 54, 221, 253, 201, 157, 110, 117, 175,
      101, 71, 207, 177, 27, 66, 7, 36, 130, 220, 83, 28, 43, 195, 144, 124, 150, 23, 235, 94, 80, 137, 228, 1, 134,
      186, 168, 165, 125, 17, 158, 111, 182, 93, 0, 171, 195, 42, 243, 142, 102, 127, 2, 46, 135, 45, 73, 204, 21, 201,
      11, 153,
    ],
    expected: [124, 104, 140, 127, 108, 111],
  },
  {
    name: 'downscales 9x8 to 4x4',
    w: 9,
    h: 8,
    ow: 4,
    oh: 4,
    input: [
      155, 119, 43, 79, 199, 166, 253, 76, 145, 74, 22, 219, 71, 8, 117, 43, 15, 21, 68, 184, 53, 192, 231, 25, 9, 125,
      250, 135, 1, 233, 35, 47, 33, 242, 129, 38, 135, 120, 105, 118, 235, 252, 195, 39, 245, 147, 23, 101, 39, 75, 169,
      130, 155, 68, 6, 246, 31, 248, 137, 50, 111, 250, 148, 146, 237, 238, 238, 60, 102, 159, 43, 242,
    ],
    expected: [99, 106, 120, 83, 105, 133, 87, 121, 97, 95, 177, 138, 153, 171, 93, 163],
  },
];

for (const c of CASES) {
  test(`resizeGrayLanczos ${c.name} exactly as Pillow does`, () => {
    const out = resizeGrayLanczos(Uint8Array.from(c.input), c.w, c.h, c.ow, c.oh);
    assert.deepEqual(Array.from(out), c.expected);
  });
}

test('returns an untouched copy when the size already matches, like Pillow', () => {
  const input = Uint8Array.from({ length: 72 }, (_, i) => (i * 37) % 256);
  const out = resizeGrayLanczos(input, 9, 8, 9, 8);
  assert.deepEqual(Array.from(out), Array.from(input));
  assert.notEqual(out, input);
});

test('keeps a flat image flat at any scale (weights sum to exactly one after rounding)', () => {
  for (const [w, h] of [
    [1, 1],
    [2, 3],
    [100, 7],
    [1000, 999],
  ]) {
    const out = resizeGrayLanczos(new Uint8Array(w * h).fill(200), w, h, 9, 8);
    assert.deepEqual(Array.from(out), new Array(72).fill(200), `${w}x${h}`);
  }
});

test('lanczos is 1 at 0, 0 at non-zero integers, and 0 outside [-3, 3)', () => {
  assert.equal(computeLanczos(0), 1);
  assert.ok(Math.abs(computeLanczos(1)) < 1e-15);
  assert.ok(Math.abs(computeLanczos(-2)) < 1e-15);
  assert.equal(computeLanczos(3), 0);
  assert.ok(computeLanczos(-3) !== 0 || Math.abs(computeLanczos(-2.999)) > 0);
  assert.equal(computeLanczos(3.5), 0);
  assert.ok(Math.abs(computeLanczos(0.5) - 0.6079271018540267) < 1e-12);
});

test('computes the window bounds Pillow uses: support 3 x scale, rounded, clamped to the image', () => {
  // 20 → 9: scale 2.222…, support 6.667. Output 0: centre
  // 1.11, (int)(-5.06) = -5 → clamped to 0, end (int)8.28 = 8.
  // Output 8: centre 18.89, start (int)12.72 = 12, end (int)26.06 = 26 → clamped to 20, so 8 taps.
  const { bounds, kernelSize } = computeResampleCoefficients(20, 9);
  assert.equal(kernelSize, 15);
  assert.deepEqual([bounds[0], bounds[1]], [0, 8]);
  assert.deepEqual([bounds[16], bounds[17]], [12, 8]);
});

test('rejects a pixel buffer shorter than width x height', () => {
  assert.throws(() => resizeGrayLanczos(new Uint8Array(5), 3, 2, 9, 8), /Expected 6 pixels, got 5/);
});
