import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.serverless/', '.esbuild/', '.local/', 'coverage/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The functions' schemas are zod/mini with English messages, from one module (shared/schemas/zod.ts):
    // classic zod, or Powertools' schemas built with it, would put all of classic zod into a bundle.
    files: ['shared/**/*.ts', 'functions/**/*.ts'],
    ignores: ['shared/schemas/zod.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'zod', message: "import * as z from 'shared/schemas/zod.js' (zod/mini with English messages)" },
            { name: 'zod/mini', message: "import * as z from 'shared/schemas/zod.js' (it sets English messages)" },
          ],
          patterns: [{ group: ['@aws-lambda-powertools/parser/schemas/*', '@aws-lambda-powertools/parser/envelopes/*'], message: "Powertools' schemas are classic zod: use shared/schemas/envelopes.ts" }],
        },
      ],
    },
  },
);
