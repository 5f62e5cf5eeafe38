// Creates a Kinesis stream on a local Kinesis-compatible server (kinesalite) and puts a recording's messages into it.
// usage: node feed-kinesis.js ENDPOINT STREAM RECORDING.jsonl      e.g. http://127.0.0.1:4567 carts carts.jsonl
// Needs nothing but node: kinesalite checks that requests are signed, not the signature.
const fs = require('fs');
const http = require('http');
const [endpoint, stream, recording] = process.argv.slice(2);
if (!recording) { console.error('usage: node feed-kinesis.js ENDPOINT STREAM RECORDING.jsonl'); process.exit(2); }

function call(action, body) {
  const url = new URL(endpoint);
  const data = JSON.stringify(body);
  const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname, port: url.port, method: 'POST', path: '/',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Kinesis_20131202.' + action, 'X-Amz-Date': date,
        'Authorization': `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0`,
        'Content-Length': Buffer.byteLength(data),
      },
    }, res => {
      let text = '';
      res.on('data', c => text += c);
      res.on('end', () => res.statusCode === 200 ? resolve(text ? JSON.parse(text) : {}) : reject(new Error(`${action}: ${res.statusCode} ${text}`)));
    });
    req.on('error', reject);
    req.end(data);
  });
}

(async () => {
  try { await call('CreateStream', { StreamName: stream, ShardCount: 1 }); }
  catch (e) { if (!/ResourceInUseException/.test(e.message)) throw e; } // already there
  while ((await call('DescribeStream', { StreamName: stream })).StreamDescription.StreamStatus !== 'ACTIVE')
    await new Promise(r => setTimeout(r, 100));
  const messages = fs.readFileSync(recording, 'utf8').split('\n').filter(l => l.trim()).map(l => JSON.parse(l));
  for (const m of messages) // one at a time: a shard keeps their order
    await call('PutRecord', { StreamName: stream, PartitionKey: m.key || 'none', Data: Buffer.from(m.payload).toString('base64') });
  console.log(`put ${messages.length} records into stream ${stream}`);
})().catch(e => { console.error(e.message); process.exit(1); });
