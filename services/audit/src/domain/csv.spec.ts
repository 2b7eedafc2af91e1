import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, csvRecord } from './csv.js';

void describe('csv', () => {
  void it('quotes only what RFC 4180 requires, doubling quotes', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('line1\nline2'), '"line1\nline2"');
    assert.equal(csvField('cr\r'), '"cr\r"');
    assert.equal(csvField(null), '');
    assert.equal(csvField(42), '42');
  });

  void it('defuses cells a spreadsheet would run as formulas', () => {
    assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvField('-1'), "'-1");
    assert.equal(csvField(-1), '-1');
  });

  void it('ends records with CRLF', () => {
    assert.equal(csvRecord(['a', null, 'b c']), 'a,,b c\r\n');
  });
});
