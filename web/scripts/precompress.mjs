// Writes a .gz copy next to every compressible file in dist/ (the server
// sends it when the client accepts gzip) and prints the total sizes.
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const exts = /\.(js|css|html|json|svg|txt|map)$/;
let raw = 0;
let gz = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { walk(p); continue; }
    if (!exts.test(name)) continue;
    const data = readFileSync(p);
    const z = gzipSync(data, { level: constants.Z_BEST_COMPRESSION });
    writeFileSync(`${p}.gz`, z);
    raw += data.length;
    gz += z.length;
  }
}
walk(dist);
console.log(`precompress: ${(raw / 1024).toFixed(1)} KiB -> ${(gz / 1024).toFixed(1)} KiB gzip`);
