// Where the installed Node's C headers are, so native builds never download them.
// Shipped in the package: scripts/install.js uses runningNodeDir() when it builds from source.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const hasHeaders = (dir) => fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h'));

/**
 * The prefix the running node was installed under (/usr for /usr/bin/node), if it holds that
 * node's own headers (include/node/node_api.h, and node_version.h naming this version);
 * else null. Headers of the very Node that runs are always right for it.
 */
function runningNodeDir() {
  const dir = path.resolve(path.dirname(process.execPath), '..');
  if (!hasHeaders(dir)) return null;
  try {
    const h = fs.readFileSync(path.join(dir, 'include', 'node', 'node_version.h'), 'utf8');
    const num = (name) => (h.match(new RegExp(`#define ${name} (\\d+)`)) || [])[1];
    const version = `${num('NODE_MAJOR_VERSION')}.${num('NODE_MINOR_VERSION')}.${num('NODE_PATCH_VERSION')}`;
    return version === process.versions.node ? dir : null;
  } catch {
    return null;
  }
}

/**
 * A directory D with D/include/node/node_api.h: the npm config's nodedir, else the prefix
 * this node runs from (/usr for /usr/bin/node), else /usr/local or /usr.
 * @throws {Error} naming the places looked at and what to install
 */
function findNodeDir() {
  const candidates = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..'), '/usr/local', '/usr'].filter(Boolean);
  for (const dir of candidates) {
    if (hasHeaders(dir)) return dir;
  }
  throw new Error(
    `Node's headers (include/node/node_api.h) are not under any of ${candidates.join(', ')}; ` +
      "install them (NodeSource's nodejs package has them; Debian's nodejs needs libnode-dev) or set npm_config_nodedir",
  );
}

module.exports = { findNodeDir, runningNodeDir };
