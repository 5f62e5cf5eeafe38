// Starts dynalite (in memory) on 127.0.0.1 and prints "listening PORT" once it accepts connections.
// usage: node run.js [PORT]   (0 or none: a free port)
const dynalite = require('dynalite');
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(+process.argv[2] || 0, '127.0.0.1', err => {
  if (err) { console.error(err); process.exit(1); }
  console.log('listening ' + server.address().port);
});
