// Starts kinesalite (in memory) on 127.0.0.1 and prints "listening PORT" once it accepts connections.
// usage: node run.js [PORT] [SHARD_LIMIT]   (0 or none: a free port)
const kinesalite = require('kinesalite');
const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: +process.argv[3] || 50 });
server.listen(+process.argv[2] || 0, '127.0.0.1', err => {
  if (err) { console.error(err); process.exit(1); }
  console.log('listening ' + server.address().port);
});
