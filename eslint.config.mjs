import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/build/**', '**/.output/**', '**/gen/**', 'bpf/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Cross-package imports go through package exports only.
      'no-restricted-imports': ['error', { patterns: ['**/packages/*/src/**', '**/apps/*/src/**'] }],
    },
  },
);
