// Lint: TypeScript rules plus the one-way layering ui → state → worker → format (STYLE.md).
import tseslint from 'typescript-eslint';
import globals from 'globals';

const ui = ['react', 'react-dom', 'react-dom/*', 'zustand', 'zustand/*', 'd3', 'd3-*', '@tanstack/*'];
const layer = (group, message) => ({ group, message });

export default tseslint.config(
  { ignores: ['dist/**', 'dist-cli/**', 'node_modules/**', 'sample-images/**', 'test-results/**', 'playwright-report/**', 'bench/out/**', '.cache/**'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['app/format/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        layer(ui, 'app/format is pure qcow2: no React, zustand or d3.'),
        layer(['**/worker/**', '**/state/**', '**/map/**', '**/ui/**', '**/cli/**'], 'app/format imports nothing from the layers above it.'),
      ] }],
      'no-restricted-globals': ['error', 'document', 'window', 'navigator', 'localStorage'],
    },
  },
  {
    files: ['app/worker/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [
      layer(ui, 'the worker has no UI.'),
      layer(['**/state/**', '**/map/**', '**/ui/**', '**/cli/**'], 'app/worker may import only app/format.'),
    ] }] },
  },
  {
    files: ['app/state/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [
      layer(['react', 'react-dom', 'd3', 'd3-*'], 'state holds data, not views.'),
      layer(['**/map/**', '**/ui/**', '**/cli/**'], 'app/state may import only app/worker and app/format.'),
    ] }] },
  },
  {
    files: ['app/map/**/*.{ts,tsx}'],
    rules: { 'no-restricted-imports': ['error', { patterns: [
      layer(['**/ui/**', '**/cli/**'], 'app/map may not import app/ui or app/cli.'),
    ] }] },
  },
  {
    files: ['app/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [
      layer(ui, 'the CLI has no UI.'),
      layer(['**/worker/**', '**/state/**', '**/map/**', '**/ui/**'], 'app/cli may import only app/format.'),
    ] }] },
  },
);
