// Preloaded (`node -r`) into kinesis-mock: makes every listening socket bind to
// 127.0.0.1 (or $TIDEWAY_BIND_HOST) instead of all interfaces.
//
// Why: kinesis-local 0.6.2 hard-codes its host to 0.0.0.0 (KinesisMockService.scala
// builds Host "0.0.0.0" for both its plain and TLS servers) and has no setting for it;
// fs2 then calls server.listen(port, cb) with no host, which Node binds to all interfaces.
// Only wildcard/absent hosts are rewritten; an explicit host is left alone.
'use strict';

const net = require('node:net');

const HOST = process.env.TIDEWAY_BIND_HOST || '127.0.0.1';
const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]']);
const isPort = (v) => typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v));

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function loopbackListen(...args) {
  const [first] = args;
  if (isPort(first)) {
    if (typeof args[1] === 'string') {
      if (WILDCARD.has(args[1])) args[1] = HOST;
    } else {
      args.splice(1, 0, HOST); // listen(port[, backlog][, cb]) -> listen(port, host[, backlog][, cb])
    }
  } else if (first && typeof first === 'object' && isPort(first.port) && first.path === undefined) {
    if (first.host === undefined || first.host === null || WILDCARD.has(first.host)) {
      args[0] = { ...first, host: HOST };
    }
  }
  return listen.apply(this, args);
};
