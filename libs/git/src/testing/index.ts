// Real Git servers for tests (never imported by production code): `@capstan/git/testing`.
export * from './http-git-server.js';
export * from './ssh-git-server.js';
export * from './process-env.js';
export * from './test-repository.js';
