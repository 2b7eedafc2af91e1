/**
 * Renders a MetricTemplate query the way Flagger's Go template does for the functions it
 * offers (`{{ name }}`, `{{ namespace }}`, `{{ target }}`, `{{ service }}`, `{{ ingress }}`,
 * `{{ route }}`, `{{ interval }}`, `{{ variables.X }}`), with missingkey=error: an unknown name
 * is an error naming it, never an empty string in a PromQL selector.
 */
export interface QueryVariables {
  name: string;
  namespace: string;
  target: string;
  service: string;
  ingress: string;
  route: string;
  interval: string;
  variables: Record<string, string>;
}

export class QueryTemplateError extends Error {
  constructor(
    readonly template: string,
    readonly key: string,
  ) {
    super(`query template: no value for "${key}"`);
    this.name = 'QueryTemplateError';
  }
}

export function renderQuery(template: string, vars: QueryVariables): string {
  return template.replace(/\{\{-?\s*\.?([A-Za-z_][\w.]*)\s*-?\}\}/g, (_all, key: string) => {
    if (key.startsWith('variables.')) {
      const v = vars.variables[key.slice('variables.'.length)];
      if (v === undefined) throw new QueryTemplateError(template, key);
      return v;
    }
    switch (key) {
      case 'name':
      case 'namespace':
      case 'target':
      case 'service':
      case 'ingress':
      case 'route':
      case 'interval':
        return vars[key];
      default:
        throw new QueryTemplateError(template, key);
    }
  });
}
