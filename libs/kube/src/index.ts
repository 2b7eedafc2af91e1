export * from './kubeconfig.js';
export * from './errors.js';
export * from './object-api.js';
export * from './applier.js';
export * from './capstan-resources.js';
