import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const apiTarget = process.env.QUBOT_API_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      // ws: true lets the /api/v1/events websocket go through the same proxy entry.
      '/api': { target: apiTarget, changeOrigin: false, ws: true },
      '/healthz': { target: apiTarget },
      '/metrics': { target: apiTarget },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The polyfill is only for browsers without modulepreload; all supported browsers have it.
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
});
