import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { BadRequestException } from '@nestjs/common';
import { parse } from 'yaml';
import { DecisionsQuery, ObjectHistoryParams, RunningQuery } from './decisions.query.js';
import { ZodParamsPipe, type BadParameterBody } from './query-validation.js';

interface ParamsCase {
  endpoint: 'decisions' | 'history' | 'running';
  /** A value, a list (the parameter repeated) or {repeat: n} for n characters. */
  params: Record<string, string | string[] | { repeat: number }>;
  parameter: string;
  match: string;
}

const PIPES = {
  decisions: new ZodParamsPipe(DecisionsQuery),
  history: new ZodParamsPipe(ObjectHistoryParams),
  running: new ZodParamsPipe(RunningQuery),
};
const cases = (
  parse(await readFile(new URL('../../fixtures/hostile/api-params.yaml', import.meta.url), 'utf8')) as {
    cases: ParamsCase[];
  }
).cases;

// The corpus of hostile audit API parameters (fixtures/hostile/api-params.yaml), through the same
// pipes the controllers use: each is a 400 whose body names the parameter and says what is wrong.
describe('hostile audit API parameters', () => {
  it('has the cases', () => assert.ok(cases.length >= 25));

  for (const c of cases) {
    const params = Object.fromEntries(
      Object.entries(c.params).map(([k, v]) => [
        k,
        typeof v === 'object' && !Array.isArray(v) ? 'x'.repeat(v.repeat) : v,
      ]),
    );
    it(`${c.endpoint} ${JSON.stringify(params).slice(0, 70)}`, () => {
      assert.throws(
        () => PIPES[c.endpoint].transform(params),
        (e: unknown) => {
          assert.ok(e instanceof BadRequestException);
          const body = e.getResponse() as BadParameterBody;
          assert.equal(body.statusCode, 400);
          assert.equal(body.parameter, c.parameter);
          assert.match(body.message, new RegExp(c.match));
          return true;
        },
      );
    });
  }
});
