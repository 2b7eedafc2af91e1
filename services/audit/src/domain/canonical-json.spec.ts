import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, CanonicalJsonError } from './canonical-json.js';

void describe('canonicalJson', () => {
  void it('is independent of key order, at every depth', () => {
    const a = { b: 1, a: { y: [1, { q: true, p: null }], x: 'é' } };
    const b = { a: { x: 'é', y: [1, { p: null, q: true }] }, b: 1 };
    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.equal(canonicalJson(a), '{"a":{"x":"é","y":[1,{"p":null,"q":true}]},"b":1}');
  });

  void it('keeps array order, which is meaningful', () => {
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
  });

  void it('writes what a jsonb round trip gives back: undefined members dropped, dates as ISO strings', () => {
    const value = { a: undefined, d: new Date('2026-11-22T10:00:00.000Z'), n: [undefined, 1.5] };
    assert.equal(canonicalJson(value), '{"d":"2026-11-22T10:00:00.000Z","n":[null,1.5]}');
    assert.equal(canonicalJson(JSON.parse(JSON.stringify(value))), canonicalJson(value));
  });

  void it('refuses values JSON cannot carry, naming where they are', () => {
    assert.throws(() => canonicalJson({ big: 1n }), /big/);
    const at = (value: unknown, path?: string) => {
      try {
        canonicalJson(value, path);
      } catch (e) {
        assert.ok(e instanceof CanonicalJsonError);
        return e.path;
      }
      assert.fail('no error');
    };
    assert.equal(at({ a: [1, { b: Symbol('s') }] }), 'a[1].b');
    assert.equal(at([{ c: 2n }], 'evidence'), 'evidence[0].c');
    assert.equal(at(undefined), '');
  });

  void it('writes escapes, numbers and nesting exactly as JSON.stringify does for a sorted copy', () => {
    const value = {
      'z"quote': 'line\nbreak \u2028 \u0001',
      ä: -0,
      B: [1e21, 0.1, -5, true, false, null, [], {}],
      a: { '': 'empty key', ' space': 'x' },
    };
    const sorted = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sorted)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v)
                .sort()
                .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
            )
          : v;
    assert.equal(canonicalJson(value), JSON.stringify(sorted(value)));
    assert.equal(canonicalJson(canonicalJson(value)), JSON.stringify(canonicalJson(value)));
  });
});
