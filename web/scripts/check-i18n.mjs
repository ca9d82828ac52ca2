// Fails the build when the Danish and English dictionaries differ in keys.
import { readFileSync } from 'node:fs';
const load = (l) => JSON.parse(readFileSync(new URL(`../src/i18n/${l}.json`, import.meta.url), 'utf8'));
const da = load('da');
const en = load('en');
const missing = [...Object.keys(da).filter((k) => !(k in en)).map((k) => `en lacks ${k}`),
  ...Object.keys(en).filter((k) => !(k in da)).map((k) => `da lacks ${k}`)];
if (missing.length) { console.error(missing.join('\n')); process.exit(1); }
