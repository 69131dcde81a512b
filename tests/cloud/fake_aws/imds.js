// The fake's instance metadata beyond the role's credentials (a test double, required by
// server.js): this instance's id, region and lifecycle, and the spot interruption notice.
//
// state.imds (set through POST /_fake/state, changed while a test runs through POST /_fake/imds,
// which merges its JSON into it; GET /_fake/imds reads it back with `spotPolls`):
//   instanceId, region, lifecycle ('spot', 'on-demand'; absent: 404 as on old instances),
//   spot: {action, time, afterPolls}: the notice, answered from poll afterPolls + 1 on (404 before),
//   hang: true: the service takes connections and never answers (off EC2, 169.254.169.254 is
//   unroutable: the client's timeout is all it gets).
'use strict';

// Before anything else: a hanging service answers nothing at all.
function before(req, res, state) {
  if (state.imds && state.imds.hang) {
    req.socket.setTimeout(0);
    return true;  // no answer: the client's timeout ends it
  }
  return false;
}

function text(res, status, body, type) {
  res.writeHead(status, { 'Content-Type': type || 'text/plain' });
  res.end(body === undefined ? '' : String(body));
}

// GET /latest/meta-data/... with a good token; true when answered here.
function meta(req, res, state) {
  const imds = state.imds;
  const path = req.url.replace(/^\/latest\/meta-data\//, '');
  if (req.method !== 'GET' || path === req.url) return false;
  const fields = { 'instance-id': 'instanceId', 'placement/region': 'region',
                   'placement/availability-zone': 'zone', 'instance-life-cycle': 'lifecycle',
                   'instance-type': 'instanceType' };
  if (fields[path] !== undefined) {
    const v = imds[fields[path]];
    if (v === undefined || v === null) text(res, 404, '');
    else text(res, 200, v);
    return true;
  }
  if (path === 'spot/instance-action') {
    imds.spotPolls = (imds.spotPolls || 0) + 1;
    const s = imds.spot;
    if (s && imds.spotPolls > (s.afterPolls || 0))
      text(res, 200, JSON.stringify({ action: s.action, time: s.time }), 'application/json');
    else
      text(res, 404, '<?xml version="1.0" encoding="iso-8859-1"?>\n<html><body><h1>404 - Not Found</h1></body></html>',
           'text/html');
    return true;
  }
  return false;
}

// The test's own routes under /_fake/imds; true when answered here.
function fakeRoute(req, res, body, state) {
  if (req.url !== '/_fake/imds') return false;
  if (req.method === 'POST') {
    state.imds = Object.assign(state.imds || {}, JSON.parse(body || '{}'));
    text(res, 200, '{}', 'application/json');
    return true;
  }
  text(res, 200, JSON.stringify(state.imds || null), 'application/json');
  return true;
}

module.exports = { before, meta, fakeRoute };
