import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePdfimagesList } from '../../../src/service/pdf/poppler.js';

test('parses pdfimages -list rows, keeping type, page and the document-wide image number', () => {
  const text = [
    'page   num  type   width height color comp bpc  enc interp  object ID x-ppi y-ppi size ratio',
    '--------------------------------------------------------------------------------------------',
    '   1     0 image      40    30  rgb     3   8  jpeg   no         5  0    72    72 1308B  36%',
    '   2     2 image      33    21  rgb     3   8  image  no         9  0    72    72  836B  23%',
    '   2     3 smask      33    21  gray    1   8  image  no         9  0    72    72  289B  24%',
    '  12    17 stencil    16    16  -       1   1  image  no        11  0    72    72   32B  50%',
    '',
  ].join('\n');
  assert.deepEqual(parsePdfimagesList(text), [
    { page: 1, num: 0, type: 'image', width: 40, height: 30, color: 'rgb', bitsPerComponent: 8, encoding: 'jpeg' },
    { page: 2, num: 2, type: 'image', width: 33, height: 21, color: 'rgb', bitsPerComponent: 8, encoding: 'image' },
    { page: 2, num: 3, type: 'smask', width: 33, height: 21, color: 'gray', bitsPerComponent: 8, encoding: 'image' },
    { page: 12, num: 17, type: 'stencil', width: 16, height: 16, color: '-', bitsPerComponent: 1, encoding: 'image' },
  ]);
});

test('an empty listing (headers only) has no rows', () => {
  assert.deepEqual(parsePdfimagesList('page   num  type\n-----\n'), []);
  assert.deepEqual(parsePdfimagesList(''), []);
});
