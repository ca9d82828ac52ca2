import { defineConfig } from 'vite';

// Built to web/dist; the bysans server serves it with a strict CSP, so
// nothing may be inlined into index.html (no inline scripts or styles).
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    target: 'es2020',
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: { '/api': process.env.BYSANS_URL ?? 'http://127.0.0.1:8080' },
  },
});
