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

/**
 * The built page's Content Security Policy: no network at all; scripts and styles inline (one
 * file), the worker from a blob: URL. Only in the build: the dev server loads module scripts.
 */
const CSP = "default-src 'none'; script-src 'unsafe-inline' blob:; worker-src blob:; style-src 'unsafe-inline'; img-src data: blob:; connect-src 'none'; base-uri 'none'; form-action 'none'";
function cspInBuild(): Plugin {
  return {
    name: 'qcowscope-csp',
    apply: 'build',
    // As text, not a tag descriptor: Vite would escape the policy's quotes as &#39;.
    transformIndexHtml: (html) => html.replace('<meta charset="utf-8" />', `<meta charset="utf-8" />\n    <meta http-equiv="Content-Security-Policy" content="${CSP}" />`),
  };
}

export default defineConfig({
  plugins: [react(), viteSingleFile({ removeViteModuleLoader: true }), renameHtml(), cspInBuild()],
  build: { outDir: 'dist', emptyOutDir: true, assetsInlineLimit: 100_000_000, chunkSizeWarningLimit: 4000 },
  // A classic (iife) worker: Chromium refuses module workers from blob: URLs on file:// pages.
  worker: { format: 'iife' },
  test: {
    include: ['app/**/*.test.ts', 'tools/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
