export * from './errors.js';
export * from './commit.js';
export * from './paths.js';
export * from './mirror.js';
