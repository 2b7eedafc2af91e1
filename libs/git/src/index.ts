export * from './errors.js';
export * from './commit.js';
export * from './paths.js';
export * from './mirror.js';
export * from './credentials.js';
export * from './ignore.js';
export * from './semver-ref.js';
export * from './verification.js';
