import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { builtinQuery } from './builtin-queries.js';
import { renderQuery, QueryTemplateError } from './render-query.js';

const vars = {
  name: 'podinfo',
  namespace: 'prod',
  target: 'podinfo',
  service: 'podinfo',
  ingress: '',
  route: 'podinfo',
  interval: '1m',
  variables: { quantile: '0.95' },
};

describe('metric queries', () => {
  it("renders Flagger's Linkerd success rate for the canary and, by target, the primary", () => {
    const q = renderQuery(builtinQuery('linkerd', 'request-success-rate'), vars);
    assert.equal(
      q,
      'sum(rate(response_total{namespace="prod",deployment=~"podinfo",classification!="failure",direction="inbound"}[1m])) / ' +
        'sum(rate(response_total{namespace="prod",deployment=~"podinfo",direction="inbound"}[1m])) * 100',
    );
    assert.match(
      renderQuery(builtinQuery('linkerd', 'request-duration'), { ...vars, target: 'podinfo-primary' }),
      /deployment=~"podinfo-primary"/,
    );
  });
  it('renders the Gateway API flavour by pod name', () => {
    assert.match(
      renderQuery(builtinQuery('gatewayapi', 'request-duration'), vars),
      /kubernetes_pod_name=~"podinfo-\[0-9a-zA-Z\]\+/,
    );
  });
  it('template variables resolve; a missing key is an error naming it (missingkey=error)', () => {
    assert.equal(
      renderQuery('histogram_quantile({{ variables.quantile }}, x{ns="{{ namespace }}"})', vars),
      'histogram_quantile(0.95, x{ns="prod"})',
    );
    assert.throws(
      () => renderQuery('{{ variables.missing }}', vars),
      (e: unknown) => e instanceof QueryTemplateError && e.key === 'variables.missing',
    );
    assert.throws(() => renderQuery('{{ cluster }}', vars), /no value for "cluster"/);
  });
});
