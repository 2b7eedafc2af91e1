export * from './kubeconfig.js';
export * from './errors.js';
export * from './object-api.js';
export * from './applier.js';
export * from './capstan-resources.js';
export * from './pruner.js';
export * from './health-checker.js';
export * from './secret-reader.js';
