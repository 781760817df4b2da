// npm run lint: ESLint with typescript-eslint's type-checked rules over all
// TypeScript, then Prettier's check. Formatting is Prettier's alone
// (eslint-config-prettier turns off the rules it owns).
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.local/', 'bench/peers/kafka-streams/target/', 'schemas/generated/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Unused variables are the compiler's job (noUnusedLocals); a leading _ marks one kept on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // A floating promise is how a failure goes unseen; `void` says it is meant.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      // express and node:http take callbacks that may return promises; the server catches them.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // Components implement async interfaces (start/stop) whose bodies need not wait.
      '@typescript-eslint/require-await': 'off',
      // Objects here come from factories over closures and never use `this`, so
      // passing their functions around (stores.restore, loop.readyPartitions) is safe.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs'], extends: [tseslint.configs.disableTypeChecked] },
  {
    // Tests, benchmarks and scripts read JSON bodies and libraries' internals loosely,
    // and compare enums that two copies of a library declare apart.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
    },
  },
  prettier,
);
