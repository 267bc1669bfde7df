// Where the installed Node's C headers are, so native builds never download them.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/**
 * A directory D with D/include/node/node_api.h: the npm config's nodedir, else the prefix
 * this node runs from (/usr for /usr/bin/node), else /usr/local or /usr.
 * @throws {Error} naming the places looked at and what to install
 */
function findNodeDir() {
  const candidates = [
    process.env.npm_config_nodedir,
    path.resolve(path.dirname(process.execPath), '..'),
    '/usr/local',
    '/usr',
  ].filter(Boolean);
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) return dir;
  }
  throw new Error(
    `Node's headers (include/node/node_api.h) are not under any of ${candidates.join(', ')}; ` +
      "install them (NodeSource's nodejs package has them; Debian's nodejs needs libnode-dev) or set npm_config_nodedir",
  );
}

module.exports = { findNodeDir };
