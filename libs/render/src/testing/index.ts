// Real servers for tests (never imported by production code): `@capstan/render/testing`.
export * from './chart-repository.js';
export * from './hostile-cases.js';
