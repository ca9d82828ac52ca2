// A small geocoder on loopback for the browser tests, answering as DAWA's
// /adgangsadresser?struktur=mini does (betegnelse, x = longitude, y = latitude) from a few real
// Copenhagen and Aarhus addresses whose text contains the query. The CI machine has no internet,
// so bysans' address search (web.geocoder_url) is pointed here by run.sh.
// It also stands in for an SMS provider's HTTP API: POST /sms is answered 200 and kept (head and
// body), GET /sms/received lists what was kept, for the SMS gateway test.
// Usage: node geocoder.mjs <file to write the port to>
import http from 'node:http';
import { writeFileSync } from 'node:fs';

const ADDRESSES = [
  { betegnelse: 'Rådhuspladsen 1, 1550 København V', x: 12.5687, y: 55.6757 },
  { betegnelse: 'Rådhuspladsen 2, 8000 Aarhus C', x: 10.2039, y: 56.1527 },
  { betegnelse: 'Vesterbrogade 3, 1620 København V', x: 12.5656, y: 55.6736 },
];

const received = [];

const server = http.createServer((req, res) => {
  if (req.url === '/sms/received') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(received));
    return;
  }
  if (req.method === 'POST' && req.url.startsWith('/sms')) {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({ url: req.url, headers: req.headers, body });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"queued"}');
    });
    return;
  }
  const q = (new URL(req.url, 'http://x').searchParams.get('q') ?? '').toLowerCase();
  const found = ADDRESSES.filter((a) => a.betegnelse.toLowerCase().includes(q));
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(found));
});
server.listen(0, '127.0.0.1', () => writeFileSync(process.argv[2], String(server.address().port)));
