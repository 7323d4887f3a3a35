// One build for both uses: `npm start` serves the app; `npm run build` writes dist/qcowscope.html,
// a single self-contained page (scripts, styles and the inlined worker) that works from file://.
import { defineConfig, type Plugin } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { viteSingleFile } from 'vite-plugin-singlefile';

/** Names the single page dist/qcowscope.html rather than index.html. */
function renameHtml(): Plugin {
  return {
    name: 'qcowscope-rename-html',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const page = bundle['index.html'];
      if (page) page.fileName = 'qcowscope.html';
    },
  };
}

export default defineConfig({
  plugins: [react(), viteSingleFile({ removeViteModuleLoader: true }), renameHtml()],
  build: { outDir: 'dist', emptyOutDir: true, assetsInlineLimit: 100_000_000, chunkSizeWarningLimit: 4000 },
  worker: { format: 'es' },
  test: {
    include: ['app/**/*.test.ts', 'scripts/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
