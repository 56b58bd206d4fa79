import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'models/**', 'coverage/**', 'test/artifacts/**', 'data/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The app reads the backend only through the HTTP contract (backend/src/contract), never its internals.
    files: ['src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: 'backend/(?!src/contract(/|$))',
              message: 'The app imports from the backend only through backend/src/contract.',
            },
          ],
        },
      ],
    },
  },
  {
    // The contract is compiled into the backend and bundled into the plugin: it imports only its own
    // modules (no Node, no browser, no packages, nothing else of the backend).
    files: ['backend/src/contract/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./)',
              message: 'The contract imports only its own modules.',
            },
          ],
        },
      ],
    },
  }
);
