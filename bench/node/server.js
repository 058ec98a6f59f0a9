// A stand-in for Vercel's Node.js runtime: loads one function module at start (so its
// top-level requires run, as on a cold start), parses JSON bodies into req.body, gives res the
// status()/json() helpers, and serves it on 127.0.0.1:$PORT.
const http = require('http');
const handler = require(require('path').resolve(process.argv[2]));

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      req.body = text ? JSON.parse(text) : undefined;
    } catch {
      req.body = text;
    }
    res.status = (code) => { res.statusCode = code; return res; };
    res.json = (value) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(value));
      return res;
    };
    try {
      await handler(req, res);
    } catch (error) {
      res.statusCode = 500;
      res.end(JSON.stringify({ success: false, error: String(error) }));
    }
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.env.PORT), '127.0.0.1');
