import tseslint from 'typescript-eslint';
import layers from './eslint-rules/layers.js';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'out/**',
      'dist/**',
      'test-results/**',
      // AssemblyScript: checked by asc (its decorators and integer types are not TypeScript).
      'src/emulator-core/cpu/riscv/wasm/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    plugins: { vivarium: layers },
    rules: {
      'vivarium/layers': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // CommonJS files (bin/viv.cjs, the fast-starting launcher): require() is how they import.
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
