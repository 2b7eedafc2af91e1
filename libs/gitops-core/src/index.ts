export * from './objects.js';
export * from './manifests.js';
export * from './ordering.js';
export * from './revision.js';
export * from './conditions.js';
export * from './duration.js';
