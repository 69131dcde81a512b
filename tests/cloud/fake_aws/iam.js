// The fake's IAM (a test double, required by server.js): the Query API's GetRole, CreateRole,
// AttachRolePolicy, DetachRolePolicy, ListAttachedRolePolicies and DeleteRole in the IAM API
// reference's XML shapes, with IAM's errors (NoSuchEntity 404, EntityAlreadyExists 409,
// DeleteConflict 409, MalformedPolicyDocument 400). IAM is global: requests must be signed for
// us-east-1. server.js has already checked the signature, counted the call and applied faults.
//
// state.iamRoles: {NAME: {arn, trust (the policy document's JSON text), description, tags: {k: v},
// policies: [ARN], lastUsedRegion}}; GET /_fake/iam reads them back.
'use strict';
const crypto = require('crypto');

const ns = 'https://iam.amazonaws.com/doc/2010-05-08/';
const account = '123456789012';
// The AWS managed policies the fake knows.
const managed = ['arn:aws:iam::aws:policy/AmazonSageMakerFullAccess',
                 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'];

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function iamError(res, status, code, message) {
  res.writeHead(status, { 'Content-Type': 'text/xml' });
  res.end('<ErrorResponse xmlns="' + ns + '"><Error><Type>Sender</Type><Code>' + esc(code) +
          '</Code><Message>' + esc(message) + '</Message></Error><RequestId>' + crypto.randomUUID() +
          '</RequestId></ErrorResponse>');
}

function ok(res, action, inner) {
  res.writeHead(200, { 'Content-Type': 'text/xml' });
  res.end('<' + action + 'Response xmlns="' + ns + '">' +
          (inner === null ? '' : '<' + action + 'Result>' + inner + '</' + action + 'Result>') +
          '<ResponseMetadata><RequestId>' + crypto.randomUUID() + '</RequestId></ResponseMetadata></' +
          action + 'Response>');
}

function roleXml(name, r) {
  let x = '<Role><Path>/</Path><RoleName>' + esc(name) + '</RoleName><RoleId>AROA' +
          crypto.createHash('md5').update(name).digest('hex').slice(0, 17).toUpperCase() + '</RoleId><Arn>' +
          esc(r.arn) + '</Arn><CreateDate>' + esc(r.created || '2026-11-30T10:00:00Z') + '</CreateDate>' +
          '<AssumeRolePolicyDocument>' + esc(encodeURIComponent(r.trust || '{}')) + '</AssumeRolePolicyDocument>';
  if (r.description) x += '<Description>' + esc(r.description) + '</Description>';
  x += '<MaxSessionDuration>3600</MaxSessionDuration>';
  const tags = Object.entries(r.tags || {});
  if (tags.length) {
    x += '<Tags>';
    for (const [k, v] of tags) x += '<member><Key>' + esc(k) + '</Key><Value>' + esc(v) + '</Value></member>';
    x += '</Tags>';
  }
  x += '<RoleLastUsed>';
  if (r.lastUsedRegion)
    x += '<LastUsedDate>2026-11-30T12:00:00Z</LastUsedDate><Region>' + esc(r.lastUsedRegion) + '</Region>';
  return x + '</RoleLastUsed></Role>';
}

function noRole(res, name) {
  return iamError(res, 404, 'NoSuchEntity', 'The role with name ' + name + ' cannot be found.');
}

const actions = {
  GetRole(form, state, res) {
    const name = form.get('RoleName');
    const r = state.iamRoles[name];
    if (!r) return noRole(res, name);
    ok(res, 'GetRole', roleXml(name, r));
  },
  CreateRole(form, state, res) {
    const name = form.get('RoleName') || '';
    if (!/^[\w+=,.@-]{1,64}$/.test(name))
      return iamError(res, 400, 'ValidationError', "1 validation error detected: Value '" + name + "' at 'roleName' failed to satisfy constraint");
    if (state.iamRoles[name]) return iamError(res, 409, 'EntityAlreadyExists', 'Role with name ' + name + ' already exists.');
    const trust = form.get('AssumeRolePolicyDocument') || '';
    let doc;
    try {
      doc = JSON.parse(trust);
    } catch (e) {
      return iamError(res, 400, 'MalformedPolicyDocument', 'This policy contains invalid Json');
    }
    if (!doc.Statement) return iamError(res, 400, 'MalformedPolicyDocument', 'Syntax errors in policy.');
    const tags = {};
    for (let n = 1; form.has('Tags.member.' + n + '.Key'); ++n)
      tags[form.get('Tags.member.' + n + '.Key')] = form.get('Tags.member.' + n + '.Value') || '';
    const r = { arn: 'arn:aws:iam::' + account + ':role/' + name, trust, description: form.get('Description') || '',
                tags, policies: [], created: new Date().toISOString() };
    state.iamRoles[name] = r;
    ok(res, 'CreateRole', roleXml(name, r));
  },
  AttachRolePolicy(form, state, res) {
    const name = form.get('RoleName');
    const r = state.iamRoles[name];
    if (!r) return noRole(res, name);
    const arn = form.get('PolicyArn');
    if (!managed.includes(arn)) return iamError(res, 404, 'NoSuchEntity', 'Policy ' + arn + ' does not exist or is not attachable.');
    if (!r.policies.includes(arn)) r.policies.push(arn);
    ok(res, 'AttachRolePolicy', null);
  },
  DetachRolePolicy(form, state, res) {
    const name = form.get('RoleName');
    const r = state.iamRoles[name];
    if (!r) return noRole(res, name);
    const arn = form.get('PolicyArn');
    if (!r.policies.includes(arn)) return iamError(res, 404, 'NoSuchEntity', 'Policy ' + arn + ' was not found.');
    r.policies = r.policies.filter((p) => p !== arn);
    ok(res, 'DetachRolePolicy', null);
  },
  ListAttachedRolePolicies(form, state, res) {
    const name = form.get('RoleName');
    const r = state.iamRoles[name];
    if (!r) return noRole(res, name);
    let x = '<IsTruncated>false</IsTruncated><AttachedPolicies>';
    for (const p of r.policies)
      x += '<member><PolicyArn>' + esc(p) + '</PolicyArn><PolicyName>' + esc(p.split('/').pop()) + '</PolicyName></member>';
    ok(res, 'ListAttachedRolePolicies', x + '</AttachedPolicies>');
  },
  DeleteRole(form, state, res) {
    const name = form.get('RoleName');
    const r = state.iamRoles[name];
    if (!r) return noRole(res, name);
    if (r.policies.length) return iamError(res, 409, 'DeleteConflict', 'Cannot delete entity, must detach all policies first.');
    delete state.iamRoles[name];
    ok(res, 'DeleteRole', null);
  },
};

// An IAM request whose signature server.js verified.
function handle(req, action, form, state, res) {
  state.iamRoles = state.iamRoles || {};
  if (!/\/us-east-1\/iam\/aws4_request/.test(req.headers.authorization || ''))
    return iamError(res, 400, 'SignatureDoesNotMatch', 'Credential should be scoped to a valid region: us-east-1');
  if (form.get('Version') !== '2010-05-08') return iamError(res, 400, 'InvalidParameterValue', 'Version must be 2010-05-08');
  if (!actions[action]) return iamError(res, 400, 'InvalidAction', 'Could not find operation ' + action + ' for version 2010-05-08');
  return actions[action](form, state, res);
}

// The test's route: GET /_fake/iam gives the roles.
function fakeRoute(req, res, state) {
  if (req.url !== '/_fake/iam') return false;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(state.iamRoles || {}));
  return true;
}

module.exports = { handle, iamError, fakeRoute };

// SageMaker's check of a notebook's execution role, where the test keeps roles (state.iamRoles):
// the role must exist and trust sagemaker.amazonaws.com. Returns [code, message] when it fails.
function notebookRoleFault(body, state) {
  if (!state.iamRoles || !body.RoleArn) return null;
  const name = String(body.RoleArn).split('/').pop();
  const r = state.iamRoles[name];
  if (!r || r.arn !== body.RoleArn || !String(r.trust || '').includes('sagemaker.amazonaws.com'))
    return ['ValidationException', 'Could not assume role ' + body.RoleArn +
            '. Please ensure that the role exists and allows principal \'sagemaker.amazonaws.com\' to assume the role.'];
  return null;
}

module.exports.notebookRoleFault = notebookRoleFault;
