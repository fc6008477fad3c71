import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The SPA lives in src/web; its build goes beside the server's (dist/web), which serves it.
export default defineConfig({
  root: 'src/web',
  plugins: [react()],
  build: { outDir: '../../dist/web', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  server: {
    proxy: { '/api': 'http://127.0.0.1:12000', '/socket.io': { target: 'ws://127.0.0.1:12000', ws: true } },
  },
});
