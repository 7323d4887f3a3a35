// Lint: TypeScript rules plus the one-way layering ui → state → worker → format (STYLE.md), one
// rule set per layer: what each layer may import, that layers above the engine reach it only through
// its entry points (app/format/index.ts, and app/format/node.ts where node is allowed), and that
// browser code never imports node-only modules.
import tseslint from 'typescript-eslint';
import globals from 'globals';

const ui = ['react', 'react-dom', 'react-dom/*', 'zustand', 'zustand/*', 'd3', 'd3-*', '@tanstack/*'];
const layer = (group, message) => ({ group, message });
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
// Node-only modules: the browser bundle (app/format, worker, state, map, ui) cannot have them.
const nodeOnly = layer(['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'worker_threads', 'esbuild'],
  'node-only module in browser code (node-only engine code is exported by app/format/node.ts).');
// Deep engine paths: layers above app/format reach it through its entry points only.
const engineDeep = (allowNode) => layer(
  ['**/format/*', '**/format/*/**', '!**/format/index', ...(allowNode ? ['!**/format/node'] : [])],
  allowNode ? 'import the engine through app/format (index.ts) or app/format/node.ts only.' : 'import the engine through app/format (index.ts) only.');
const engineUp = layer(['**/worker/**', '**/state/**', '**/map/**', '**/ui/**', '**/cli/**'], 'app/format imports nothing from the layers above it.');
const tests = ['**/*.test.ts', '**/*.test.tsx'];
const layerRules = (dir, ext, ...patterns) => [
  { files: [`${dir}/**/${ext}`], rules: restrict(...patterns, engineDeep(false), nodeOnly) },
  { files: tests.map((t) => `${dir}/${t}`), rules: restrict(...patterns, engineDeep(true)) },
];
// The engine's node-only files: NodeFileSource and the entry that exports it.
const engineNode = ['app/format/node.ts', 'app/format/qcow2/source-node.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'dist-cli/**', 'node_modules/**', 'sample-images/**', 'test-results/**', 'playwright-report/**', 'tools/bench/out/**', '.cache/**'] },
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
      ...restrict(layer(ui, 'app/format is pure qcow2: no React, zustand or d3.'), engineUp, nodeOnly),
      'no-restricted-globals': ['error', 'document', 'window', 'navigator', 'localStorage'],
    },
  },
  {
    files: [...engineNode, 'app/format/**/*.test.ts'],
    rules: restrict(layer(ui, 'app/format is pure qcow2: no React, zustand or d3.'), engineUp),
  },
  // Each layer above the engine: its own sources, then its tests (node: the node entry is allowed).
  ...layerRules('app/worker', '*.ts', layer(ui, 'the worker has no UI.'),
    layer(['**/state/**', '**/map/**', '**/ui/**', '**/cli/**'], 'app/worker may import only app/format.')),
  ...layerRules('app/state', '*.ts', layer(['react', 'react-dom', 'd3', 'd3-*'], 'state holds data, not views.'),
    layer(['**/map/**', '**/ui/**', '**/cli/**'], 'app/state may import only app/worker and app/format.')),
  ...layerRules('app/map', '*.{ts,tsx}',
    layer(['**/state/**', '**/worker/**', '**/ui/**', '**/cli/**'], 'app/map draws what it is given: it may import only app/format.')),
  ...layerRules('app/ui', '*.{ts,tsx}', layer(['**/cli/**'], 'app/ui may not import app/cli.')),
  {
    files: ['app/cli/**/*.ts'],
    rules: restrict(
      layer(ui, 'the CLI has no UI.'),
      layer(['**/worker/**', '**/state/**', '**/map/**', '**/ui/**'], 'app/cli may import only app/format.'),
      engineDeep(true),
    ),
  },
);
