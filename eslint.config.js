// Type-aware lint for the whole workspace; module boundaries come from the Nx project tags.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';

/** Tag rules; tests may additionally use the testing library, production code never. */
function boundaries(inTests) {
  const t = (tags) => (inTests ? [...tags, 'type:testing'] : tags);
  return {
    allow: [],
    depConstraints: [
      { sourceTag: 'type:domain', onlyDependOnLibsWithTags: t(['type:domain']) },
      { sourceTag: 'type:util', onlyDependOnLibsWithTags: t(['type:util', 'type:domain']) },
      { sourceTag: 'type:data', onlyDependOnLibsWithTags: t(['type:data', 'type:util', 'type:domain']) },
      { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:data', 'type:util', 'type:domain'] },
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: t(['type:data', 'type:util', 'type:domain']) },
      { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['*'] },
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
      { sourceTag: 'scope:reconciler', onlyDependOnLibsWithTags: ['scope:shared', 'scope:reconciler'] },
      { sourceTag: 'scope:git-watcher', onlyDependOnLibsWithTags: ['scope:shared', 'scope:git-watcher'] },
      { sourceTag: 'scope:audit', onlyDependOnLibsWithTags: ['scope:shared', 'scope:audit'] },
      {
        sourceTag: 'scope:registry-watcher',
        onlyDependOnLibsWithTags: ['scope:shared', 'scope:registry-watcher'],
      },
      {
        sourceTag: 'scope:canary-analyzer',
        onlyDependOnLibsWithTags: ['scope:shared', 'scope:canary-analyzer'],
      },
      { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:shared', 'scope:cli'] },
    ],
  };
}

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/generated/**',
      'deploy/**',
      '**/*.js',
      '**/*.mjs',
      '**/prisma.config.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { '@nx': nx },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'it', 'test', 'suite'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      // `() => void promise` and `(x) => set.add(x)` callbacks read fine; the rule only adds braces.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // Nest and the Kubernetes client declare plain option bags as classes; literals are what they expect.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      // Nest classes are containers for decorators and injected adapters.
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': ['error', boundaries(false)],
    },
  },
  {
    files: ['**/*.spec.ts', '**/src/testing/**', 'libs/testing/**', 'e2e/**', 'bench/**'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(true)],
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Handlers in tests are async to match the signature they stand in for.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  prettier,
);
