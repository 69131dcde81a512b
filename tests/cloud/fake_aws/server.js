// A local fake AWS endpoint for d2l-cpp's cloud tests (a test double: no request reaches AWS).
// It verifies every request's Signature Version 4 with AWS's own signer (@smithy/signature-v4),
// answers the EC2 Query API (DescribeInstances, StopInstances, StartInstances,
// TerminateInstances) in the EC2 API reference's XML shapes, keeps each instance's state, answers
// SSM's GetParameter in the JSON protocol, prices (prices.js: the Price List API's GetProducts,
// DescribeSpotPriceHistory), plays an instance metadata service (IMDSv2), and
// injects faults (throttling N times, 5xx, expired tokens, missing permissions).
//
//   node server.js PORT_FILE      listens on a free 127.0.0.1 port and writes it to PORT_FILE
//
// The test drives it over HTTP: POST /_fake/state with JSON {keys: {AKID: {secret, token?}},
// instances: [...], parameters: {name: value}, imds: {role, AccessKeyId, SecretAccessKey,
// Token}, faults: [{action, code, status, times}]} replaces the state; GET /_fake/stats gives
// {attempts: {Action: n}, rejected: n, requests: [{action, key, token}]}.
'use strict';
const http = require('http');
const fs = require('fs');
const crypto = require('crypto');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');
const prices = require('./prices');  // GetProducts and DescribeSpotPriceHistory
// --- instance metadata and IAM: their own modules (imds.js, iam.js) ---
const imdsMore = require('./imds');
const iam = require('./iam');
// --- end instance metadata and IAM ---

const empty = () => ({ keys: {}, instances: [], parameters: {}, imds: null, faults: [], keyPairs: {},
                       securityGroups: [], instanceTypes: ['t3.medium', 'g4dn.xlarge', 'g6.xlarge'],
                       images: { 'ami-0dlami': '/dev/sda1' }, launches: [], notebooks: {}, lifecycleConfigs: {} });
let state = empty();
let stats = { attempts: {}, rejected: 0, requests: [] };

const xmlns = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const stateCodes = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };
// Where a state settles by the next request (the fake's clock is the request count).
const settles = { pending: 'running', stopping: 'stopped', 'shutting-down': 'terminated' };

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function ec2Error(res, status, code, message) {
  res.writeHead(status, { 'Content-Type': 'text/xml;charset=UTF-8' });
  res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>' + esc(code) +
          '</Code><Message>' + esc(message) + '</Message></Error></Errors><RequestID>' +
          crypto.randomUUID() + '</RequestID></Response>');
}

function jsonError(res, status, code, message) {
  res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': code });
  res.end(JSON.stringify({ __type: code, message }));
}

function settle() {
  for (const i of state.instances) if (settles[i.state]) i.state = settles[i.state];
}

function stateXml(tag, s) {
  return '<' + tag + '><code>' + stateCodes[s] + '</code><name>' + s + '</name></' + tag + '>';
}

function instanceXml(i) {
  let x = '<item><instanceId>' + esc(i.id) + '</instanceId><imageId>' + esc(i.image || 'ami-0fake') +
          '</imageId>' + stateXml('instanceState', i.state) + '<instanceType>' + esc(i.type) +
          '</instanceType><launchTime>' + esc(i.launchTime) + '</launchTime><placement>' +
          '<availabilityZone>' + esc(i.zone || 'us-east-1a') + '</availabilityZone><tenancy>default' +
          '</tenancy></placement>';
  if (i.publicIp && i.state === 'running') x += '<ipAddress>' + esc(i.publicIp) + '</ipAddress>';
  if (i.spot) x += '<instanceLifecycle>spot</instanceLifecycle>';
  if (i.keyName) x += '<keyName>' + esc(i.keyName) + '</keyName>';
  x += '<groupSet>';
  for (const g of i.securityGroups || []) x += '<item><groupId>' + esc(g) + '</groupId></item>';
  x += '</groupSet>';
  if (i.reason) x += '<reason>' + esc(i.reason) + '</reason>';
  x += '<tagSet>';
  for (const [k, v] of Object.entries(i.tags || {}))
    x += '<item><key>' + esc(k) + '</key><value>' + esc(v) + '</value></item>';
  return x + '</tagSet></item>';
}

function tagSetXml(tags) {
  let x = '<tagSet>';
  for (const [k, v] of Object.entries(tags || {})) x += '<item><key>' + esc(k) + '</key><value>' + esc(v) + '</value></item>';
  return x + '</tagSet>';
}

function filtersOf(form) {
  const filters = [];
  for (let n = 1; form.has('Filter.' + n + '.Name'); ++n) {
    const values = [];
    for (let v = 1; form.has('Filter.' + n + '.Value.' + v); ++v) values.push(form.get('Filter.' + n + '.Value.' + v));
    filters.push({ name: form.get('Filter.' + n + '.Name'), values });
  }
  return filters;
}

function matches(i, f) {
  if (f.name === 'tag-key') return f.values.some((v) => v in (i.tags || {}));
  if (f.name === 'instance-state-name') return f.values.includes(i.state);
  if (f.name === 'instance-id') return f.values.includes(i.id);
  if (f.name === 'key-name') return f.values.includes(i.keyName);
  if (f.name === 'instance.group-id') return (i.securityGroups || []).some((g) => f.values.includes(g));
  return true;
}

function describeInstances(form, res) {
  const filters = filtersOf(form);
  const ids = [];
  for (let n = 1; form.has('InstanceId.' + n); ++n) ids.push(form.get('InstanceId.' + n));
  let list = state.instances.filter((i) => filters.every((f) => matches(i, f)) && (!ids.length || ids.includes(i.id)));
  const page = state.pageSize || 1000;
  const start = Number(form.get('NextToken') || 0);
  const next = start + page < list.length ? String(start + page) : '';
  list = list.slice(start, start + page);
  let x = '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="' + xmlns +
          '"><requestId>' + crypto.randomUUID() + '</requestId><reservationSet>';
  for (const i of list)
    x += '<item><reservationId>r-' + i.id.slice(2) + '</reservationId><ownerId>123456789012</ownerId>' +
         '<groupSet/><instancesSet>' + instanceXml(i) + '</instancesSet></item>';
  x += '</reservationSet>' + (next ? '<nextToken>' + next + '</nextToken>' : '') + '</DescribeInstancesResponse>';
  res.writeHead(200, { 'Content-Type': 'text/xml;charset=UTF-8' });
  res.end(x);
}

const transitions = {
  StopInstances: { from: ['running', 'pending', 'stopping', 'stopped'], to: 'stopping', done: 'stopped' },
  StartInstances: { from: ['stopped', 'pending', 'running'], to: 'pending', done: 'running' },
  TerminateInstances: { from: Object.keys(stateCodes), to: 'shutting-down', done: 'terminated' },
};

function changeInstances(action, form, res) {
  const ids = [];
  for (let n = 1; form.has('InstanceId.' + n); ++n) ids.push(form.get('InstanceId.' + n));
  if (!ids.length) return ec2Error(res, 400, 'MissingParameter', 'The request must contain the parameter InstanceId');
  const t = transitions[action];
  const found = [];
  for (const id of ids) {
    const i = state.instances.find((x) => x.id === id);
    if (!i) return ec2Error(res, 400, 'InvalidInstanceID.NotFound', "The instance ID '" + id + "' does not exist");
    if (!t.from.includes(i.state))
      return ec2Error(res, 400, 'IncorrectInstanceState',
                      "The instance '" + id + "' is not in a state from which it can be " + action.replace('Instances', '').toLowerCase() + 'ed.');
    found.push(i);
  }
  const tag = action.replace('Instances', '') + 'InstancesResponse';
  let x = '<?xml version="1.0" encoding="UTF-8"?>\n<' + tag + ' xmlns="' + xmlns + '"><requestId>' +
          crypto.randomUUID() + '</requestId><instancesSet>';
  for (const i of found) {
    const previous = i.state;
    const current = previous === t.done ? t.done : t.to;
    i.state = current;
    if (action === 'StopInstances' && previous !== 'stopped')
      i.reason = 'User initiated (' + new Date().toISOString().slice(0, 19).replace('T', ' ') + ' GMT)';
    if (action === 'StartInstances' && previous !== 'running') i.launchTime = new Date().toISOString();
    x += '<item><instanceId>' + i.id + '</instanceId>' + stateXml('currentState', current) +
         stateXml('previousState', previous) + '</item>';
  }
  x += '</instancesSet></' + tag + '>';
  res.writeHead(200, { 'Content-Type': 'text/xml;charset=UTF-8' });
  res.end(x);
}

function ok(res, tag, inner) {
  res.writeHead(200, { 'Content-Type': 'text/xml;charset=UTF-8' });
  res.end('<?xml version="1.0" encoding="UTF-8"?>\n<' + tag + ' xmlns="' + xmlns + '"><requestId>' +
          crypto.randomUUID() + '</requestId>' + inner + '</' + tag + '>');
}

// Tags of TagSpecification.N whose ResourceType is `type`.
function tagsFor(form, type) {
  const tags = {};
  for (let n = 1; form.has('TagSpecification.' + n + '.ResourceType'); ++n) {
    if (form.get('TagSpecification.' + n + '.ResourceType') !== type) continue;
    for (let t = 1; form.has('TagSpecification.' + n + '.Tag.' + t + '.Key'); ++t)
      tags[form.get('TagSpecification.' + n + '.Tag.' + t + '.Key')] = form.get('TagSpecification.' + n + '.Tag.' + t + '.Value') || '';
  }
  return tags;
}

const launchActions = {
  DescribeSpotPriceHistory(form, res) {
    prices.describeSpotPriceHistory(state, form, (tag, inner) => ok(res, tag, inner), (...e) => ec2Error(res, ...e));
  },
  DescribeVolumes(form, res) {
    const ids = filtersOf(form).filter((f) => f.name === 'attachment.instance-id').flatMap((f) => f.values);
    let x = '<volumeSet>';
    for (const i of state.instances.filter((i) => !ids.length || ids.includes(i.id)))
      for (const v of i.volumes || [])
        x += '<item><volumeId>' + esc(v.id) + '</volumeId><size>' + v.size + '</size><volumeType>' + esc(v.type) +
             '</volumeType><attachmentSet><item><volumeId>' + esc(v.id) + '</volumeId><instanceId>' + esc(i.id) +
             '</instanceId><status>attached</status></item></attachmentSet></item>';
    ok(res, 'DescribeVolumesResponse', x + '</volumeSet>');
  },
  DescribeInstanceTypes(form, res) {
    const t = form.get('InstanceType.1');
    if (!state.instanceTypes.includes(t))
      return ec2Error(res, 400, 'InvalidInstanceType', "The following supplied instance types do not exist: [" + t + ']');
    ok(res, 'DescribeInstanceTypesResponse', '<instanceTypeSet><item><instanceType>' + esc(t) + '</instanceType></item></instanceTypeSet>');
  },
  DescribeImages(form, res) {
    const id = form.get('ImageId.1');
    if (!(id in state.images)) return ec2Error(res, 400, 'InvalidAMIID.NotFound', "The image id '[" + id + "]' does not exist");
    ok(res, 'DescribeImagesResponse', '<imagesSet><item><imageId>' + esc(id) + '</imageId><rootDeviceName>' +
       esc(state.images[id]) + '</rootDeviceName></item></imagesSet>');
  },
  DescribeKeyPairs(form, res) {
    const name = form.get('KeyName.1');
    if (!(name in state.keyPairs)) return ec2Error(res, 400, 'InvalidKeyPair.NotFound', "The key pair '" + name + "' does not exist");
    ok(res, 'DescribeKeyPairsResponse', '<keySet><item><keyName>' + esc(name) + '</keyName>' +
       tagSetXml(state.keyPairs[name].tags) + '</item></keySet>');
  },
  DeleteKeyPair(form, res) {
    delete state.keyPairs[form.get('KeyName')];
    ok(res, 'DeleteKeyPairResponse', '<return>true</return>');
  },
  DeleteSecurityGroup(form, res) {
    const id = form.get('GroupId');
    if (!state.securityGroups.some((g) => g.id === id))
      return ec2Error(res, 400, 'InvalidGroup.NotFound', "The security group '" + id + "' does not exist");
    if (state.instances.some((i) => i.state !== 'terminated' && (i.securityGroups || []).includes(id)))
      return ec2Error(res, 400, 'DependencyViolation', 'resource ' + id + ' has a dependent object');
    state.securityGroups = state.securityGroups.filter((g) => g.id !== id);
    ok(res, 'DeleteSecurityGroupResponse', '<return>true</return>');
  },
  CreateKeyPair(form, res) {
    const name = form.get('KeyName');
    if (name in state.keyPairs) return ec2Error(res, 400, 'InvalidKeyPair.Duplicate', "The keypair '" + name + "' already exists.");
    state.keyPairs[name] = { type: form.get('KeyType') || 'rsa', tags: tagsFor(form, 'key-pair') };
    ok(res, 'CreateKeyPairResponse', '<keyName>' + esc(name) + '</keyName><keyFingerprint>fake</keyFingerprint>' +
       '<keyMaterial>-----BEGIN OPENSSH PRIVATE KEY-----\nfake-key-material-for-' + esc(name) +
       '\n-----END OPENSSH PRIVATE KEY-----</keyMaterial><keyPairId>key-0fake</keyPairId>');
  },
  DescribeSecurityGroups(form, res) {
    const names = filtersOf(form).filter((f) => f.name === 'group-name').flatMap((f) => f.values);
    const ids = [];
    for (let n = 1; form.has('GroupId.' + n); ++n) ids.push(form.get('GroupId.' + n));
    let x = '<securityGroupInfo>';
    for (const g of state.securityGroups.filter((g) => (!names.length || names.includes(g.name)) && (!ids.length || ids.includes(g.id)))) {
      x += '<item><groupId>' + g.id + '</groupId><groupName>' + esc(g.name) + '</groupName><ipPermissions>';
      for (const r of g.rules)
        x += '<item><ipProtocol>' + r.protocol + '</ipProtocol><fromPort>' + r.from + '</fromPort><toPort>' + r.to +
             '</toPort><ipRanges><item><cidrIp>' + esc(r.cidr) + '</cidrIp></item></ipRanges></item>';
      x += '</ipPermissions>' + tagSetXml(g.tags) + '</item>';
    }
    ok(res, 'DescribeSecurityGroupsResponse', x + '</securityGroupInfo>');
  },
  CreateSecurityGroup(form, res) {
    const name = form.get('GroupName');
    if (state.securityGroups.some((g) => g.name === name))
      return ec2Error(res, 400, 'InvalidGroup.Duplicate', "The security group '" + name + "' already exists");
    const id = 'sg-0' + crypto.randomBytes(8).toString('hex');
    state.securityGroups.push({ id, name, description: form.get('GroupDescription'), tags: tagsFor(form, 'security-group'), rules: [] });
    ok(res, 'CreateSecurityGroupResponse', '<return>true</return><groupId>' + id + '</groupId>');
  },
  AuthorizeSecurityGroupIngress(form, res) {
    const g = state.securityGroups.find((x) => x.id === form.get('GroupId'));
    if (!g) return ec2Error(res, 400, 'InvalidGroup.NotFound', "The security group '" + form.get('GroupId') + "' does not exist");
    const rule = { protocol: form.get('IpPermissions.1.IpProtocol'), from: Number(form.get('IpPermissions.1.FromPort')),
                   to: Number(form.get('IpPermissions.1.ToPort')), cidr: form.get('IpPermissions.1.IpRanges.1.CidrIp') };
    if (g.rules.some((r) => JSON.stringify(r) === JSON.stringify(rule)))
      return ec2Error(res, 400, 'InvalidPermission.Duplicate', 'the specified rule already exists');
    g.rules.push(rule);
    ok(res, 'AuthorizeSecurityGroupIngressResponse', '<return>true</return>');
  },
  RunInstances(form, res) {
    const token = form.get('ClientToken') || '';
    let i = token && state.instances.find((x) => x.clientToken === token);
    if (!i) {
      const type = form.get('InstanceType');
      if (!state.instanceTypes.includes(type)) return ec2Error(res, 400, 'InvalidParameterValue', 'Invalid value for instanceType');
      if (!(form.get('ImageId') in state.images)) return ec2Error(res, 400, 'InvalidAMIID.NotFound', 'no such image');
      if (!(form.get('KeyName') in state.keyPairs)) return ec2Error(res, 400, 'InvalidKeyPair.NotFound', 'no such key pair');
      const params = {};
      for (const [k, v] of form) params[k] = v;
      i = { id: 'i-0' + crypto.randomBytes(8).toString('hex'), type, state: 'pending', clientToken: token,
            launchTime: new Date().toISOString(), publicIp: '198.51.100.' + (10 + state.instances.length),
            spot: form.get('InstanceMarketOptions.MarketType') === 'spot', tags: tagsFor(form, 'instance'),
            keyName: form.get('KeyName'), securityGroups: [form.get('SecurityGroupId.1')],
            volumes: [{ id: 'vol-0' + crypto.randomBytes(8).toString('hex'), size: Number(form.get('BlockDeviceMapping.1.Ebs.VolumeSize') || 45),
                        type: form.get('BlockDeviceMapping.1.Ebs.VolumeType') || 'gp3' }],
            volumeTags: tagsFor(form, 'volume'), params };
      state.instances.push(i);
      state.launches.push(i.id);
    }
    ok(res, 'RunInstancesResponse', '<reservationId>r-' + i.id.slice(2) + '</reservationId><ownerId>123456789012</ownerId>' +
       '<groupSet/><instancesSet>' + instanceXml(Object.assign({}, i, { state: 'pending' })) + '</instancesSet>');
  },
};

// AWS Budgets and Cost Explorer (JSON protocol; global, signed for us-east-1).
function billing(action, b, res) {
  state.budgets = state.budgets || {};
  if (action === 'CreateBudget') {
    if (b.AccountId !== '123456789012') return jsonError(res, 400, 'AccessDeniedException', 'wrong account');
    const name = b.Budget && b.Budget.BudgetName;
    if (name in state.budgets) return jsonError(res, 400, 'DuplicateRecordException', 'the budget ' + name + ' already exists');
    state.budgets[name] = { request: b };
    return jsonOk(res, {});
  }
  if (action === 'DescribeBudget') {
    const x = state.budgets[b.BudgetName];
    if (!x) return jsonError(res, 400, 'NotFoundException', 'Unable to get budget: ' + b.BudgetName + ' - the budget doesn\'t exist.');
    return jsonOk(res, { Budget: Object.assign({}, x.request.Budget, {
      CalculatedSpend: { ActualSpend: { Amount: String(state.spend || 0), Unit: 'USD' },
                         ForecastedSpend: { Amount: String(state.forecast || 0), Unit: 'USD' } } }) });
  }
  if (action === 'GetCostAndUsage') {
    state.lastCostQuery = b;
    return jsonOk(res, { ResultsByTime: [{ TimePeriod: b.TimePeriod, Total: { UnblendedCost: { Amount: String(state.spend || 0), Unit: 'USD' } }, Estimated: true }] });
  }
  return jsonError(res, 400, 'UnknownOperationException', action);
}

// SageMaker notebook instances (JSON protocol).
function jsonOk(res, obj) {
  res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(obj));
}

function settleNotebooks() {
  for (const [name, n] of Object.entries(state.notebooks)) {
    if (n.NotebookInstanceStatus === 'Pending') n.NotebookInstanceStatus = 'InService';
    else if (n.NotebookInstanceStatus === 'Stopping') n.NotebookInstanceStatus = 'Stopped';
    else if (n.NotebookInstanceStatus === 'Deleting') delete state.notebooks[name];
  }
}

function notebookOr404(b, res) {
  const n = state.notebooks[b.NotebookInstanceName];
  if (!n) jsonError(res, 400, 'ValidationException', 'RecordNotFound');
  return n;
}

const sagemakerActions = {
  CreateNotebookInstanceLifecycleConfig(b, res) {
    const name = b.NotebookInstanceLifecycleConfigName;
    if (name in state.lifecycleConfigs)
      return jsonError(res, 400, 'ResourceInUse', 'Unable to create Notebook Instance Lifecycle Config ' + name + ': it already exists');
    state.lifecycleConfigs[name] = { OnStart: b.OnStart || [], OnCreate: b.OnCreate || [] };
    jsonOk(res, { NotebookInstanceLifecycleConfigArn: 'arn:aws:sagemaker:us-east-1:123456789012:notebook-instance-lifecycle-config/' + name });
  },
  CreateNotebookInstance(b, res) {
    const name = b.NotebookInstanceName;
    if (name in state.notebooks) return jsonError(res, 400, 'ResourceInUse', 'Cannot create a duplicate Notebook Instance (' + name + ')');
    if (!b.RoleArn) return jsonError(res, 400, 'ValidationException', 'RoleArn is required');
    if (b.LifecycleConfigName && !(b.LifecycleConfigName in state.lifecycleConfigs))
      return jsonError(res, 400, 'ValidationException', 'Notebook Instance Lifecycle Config does not exist');
    state.notebooks[name] = { NotebookInstanceName: name, NotebookInstanceStatus: 'Pending', InstanceType: b.InstanceType,
                              RoleArn: b.RoleArn, VolumeSizeInGB: b.VolumeSizeInGB || 5, Tags: b.Tags || [],
                              NotebookInstanceLifecycleConfigName: b.LifecycleConfigName,
                              Url: name + '.notebook.us-east-1.sagemaker.aws', request: b };
    jsonOk(res, { NotebookInstanceArn: 'arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/' + name.toLowerCase() });
  },
  DescribeNotebookInstance(b, res) {
    const n = notebookOr404(b, res);
    if (!n) return;
    const { request, Tags, ...shown } = n;
    jsonOk(res, Object.assign({ NotebookInstanceArn: 'arn:aws:sagemaker:::notebook-instance/' + n.NotebookInstanceName,
                                CreationTime: 1.7e9 }, shown));
  },
  ListNotebookInstances(b, res) {
    const names = Object.keys(state.notebooks).sort();
    const start = Number(b.NextToken || 0), page = state.pageSize || 100;
    const out = names.slice(start, start + page).map((k) => {
      const n = state.notebooks[k];
      return { NotebookInstanceName: k, NotebookInstanceStatus: n.NotebookInstanceStatus, InstanceType: n.InstanceType, Url: n.Url };
    });
    const reply = { NotebookInstances: out };
    if (start + page < names.length) reply.NextToken = String(start + page);
    jsonOk(res, reply);
  },
  StartNotebookInstance(b, res) {
    const n = notebookOr404(b, res);
    if (!n) return;
    if (!['Stopped', 'Failed'].includes(n.NotebookInstanceStatus))
      return jsonError(res, 400, 'ValidationException', 'Status (' + n.NotebookInstanceStatus + ') not in ([Stopped, Failed]). Unable to transition to (Pending)');
    n.NotebookInstanceStatus = 'Pending';
    jsonOk(res, {});
  },
  StopNotebookInstance(b, res) {
    const n = notebookOr404(b, res);
    if (!n) return;
    if (n.NotebookInstanceStatus !== 'InService')
      return jsonError(res, 400, 'ValidationException', 'Status (' + n.NotebookInstanceStatus + ') not in ([InService]). Unable to transition to (Stopping)');
    n.NotebookInstanceStatus = 'Stopping';
    jsonOk(res, {});
  },
  DeleteNotebookInstance(b, res) {
    const n = notebookOr404(b, res);
    if (!n) return;
    if (!['Stopped', 'Failed'].includes(n.NotebookInstanceStatus))
      return jsonError(res, 400, 'ValidationException', 'Status (' + n.NotebookInstanceStatus + ') not in ([Stopped, Failed]). Unable to transition to (Deleting)');
    n.NotebookInstanceStatus = 'Deleting';
    jsonOk(res, {});
  },
  CreatePresignedNotebookInstanceUrl(b, res) {
    const n = notebookOr404(b, res);
    if (!n) return;
    jsonOk(res, { AuthorizedUrl: 'https://' + n.Url + '?authToken=fake-presigned-token-' + b.SessionExpirationDurationInSeconds });
  },
};

// Parses `AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b,
// Signature=HEX`.
function parseAuthorization(h) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(h || '');
  if (!m) return null;
  return { key: m[1], day: m[2], region: m[3], service: m[4], signed: m[5].split(';'), signature: m[6] };
}

function amzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

// Verifies the request's signature by signing the same request again with AWS's signer.
// Returns null when it is good, else [status, code, message].
async function verify(req, body, service) {
  const auth = parseAuthorization(req.headers.authorization);
  if (!auth) return [401, 'AuthFailure', 'The request has no valid AWS Signature Version 4 Authorization header.'];
  const key = state.keys[auth.key];
  if (!key) return [401, 'AuthFailure', 'AWS was not able to validate the provided access credentials'];
  if (auth.service !== service) return [401, 'AuthFailure', 'Credential should be scoped to correct service: ' + service];
  const date = amzDate(req.headers['x-amz-date']);
  if (!date || auth.day !== req.headers['x-amz-date'].slice(0, 8))
    return [401, 'AuthFailure', 'X-Amz-Date is missing or does not match the credential scope'];
  if (Math.abs(Date.now() - date.getTime()) > 15 * 60 * 1000) return [400, 'RequestExpired', 'Request has expired.'];
  for (const must of ['host', 'x-amz-date'])
    if (!auth.signed.includes(must)) return [401, 'AuthFailure', 'Header ' + must + ' is not signed'];
  const token = req.headers['x-amz-security-token'];
  if ((key.token || '') !== (token || ''))
    return [401, 'AuthFailure', 'The security token included in the request is invalid.'];
  if (key.expired) return [400, 'RequestExpired', 'Request has expired.'];
  const headers = {};
  for (const h of auth.signed) {
    if (req.headers[h] === undefined) return [401, 'AuthFailure', 'Signed header ' + h + ' is missing'];
    headers[h] = req.headers[h];
  }
  const [hostname, port] = req.headers.host.split(':');
  const credentials = { accessKeyId: auth.key, secretAccessKey: key.secret };
  if (token && auth.signed.includes('x-amz-security-token')) credentials.sessionToken = token;
  const signer = new SignatureV4({ credentials, region: auth.region, service, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign({ method: req.method, protocol: 'http:', hostname, port: port ? Number(port) : undefined,
                                     path: req.url.split('?')[0], query: {}, headers, body },
                                   { signingDate: date });
  const expected = parseAuthorization(signed.headers.authorization);
  if (!expected || expected.signature !== auth.signature || expected.signed.join(';') !== auth.signed.join(';'))
    return [401, 'AuthFailure', 'AWS was not able to validate the provided access credentials'];
  return null;
}

function takeFault(action) {
  const f = state.faults.find((x) => (x.action === action || x.action === '*') && x.times > 0);
  if (!f) return null;
  f.times -= 1;
  return f;
}

function imds(req, res) {
  if (imdsMore.before(req, res, state)) return;  // instance metadata (imds.js)
  const tokenOk = req.headers['x-aws-ec2-metadata-token'] === 'fake-imds-token';
  if (req.method === 'PUT' && req.url === '/latest/api/token') {
    if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) { res.writeHead(400); return res.end(); }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    return res.end('fake-imds-token');
  }
  if (!tokenOk) { res.writeHead(401); return res.end(); }  // IMDSv2 only
  const base = '/latest/meta-data/iam/security-credentials/';
  if (!state.imds) { res.writeHead(404); return res.end(); }
  if (imdsMore.meta(req, res, state)) return;  // instance metadata (imds.js)
  if (req.url === base) { res.writeHead(200); return res.end(state.imds.role); }
  if (req.url === base + state.imds.role) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ Code: 'Success', Type: 'AWS-HMAC', AccessKeyId: state.imds.AccessKeyId,
                                    SecretAccessKey: state.imds.SecretAccessKey, Token: state.imds.Token,
                                    Expiration: new Date(Date.now() + 3600e3).toISOString() }));
  }
  res.writeHead(404);
  res.end();
}

async function handle(req, res, body) {
  if (req.url.startsWith('/_fake/')) {
    if (req.method === 'POST' && req.url === '/_fake/state') {
      state = Object.assign(empty(), JSON.parse(body || '{}'));
      stats = { attempts: {}, rejected: 0, requests: [] };
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end('{}');
    }
    if (req.method === 'GET' && req.url === '/_fake/stats') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(Object.assign({ lastSpotQuery: state.lastSpotQuery, budgets: state.budgets, lastCostQuery: state.lastCostQuery, notebooks: state.notebooks, lifecycleConfigs: state.lifecycleConfigs,
                                                    instances: state.instances, keyPairs: state.keyPairs,
                                                    securityGroups: state.securityGroups, launches: state.launches }, stats)));
    }
    if (imdsMore.fakeRoute(req, res, body, state) || iam.fakeRoute(req, res, state)) return;  // imds.js, iam.js
    res.writeHead(404);
    return res.end();
  }
  if (req.url.startsWith('/latest/')) return imds(req, res);
  if (req.method !== 'POST') { res.writeHead(405); return res.end(); }
  const target = req.headers['x-amz-target'];
  const json = !!target;
  const action = json ? target.split('.').pop() : new URLSearchParams(body).get('Action') || '';
  const prefixes = { 'AmazonSSM.': 'ssm', 'SageMaker.': 'sagemaker', 'AWSBudgetServiceGateway.': 'budgets',
                     'AWSInsightsIndexService.': 'ce', 'AWSPriceListService.': 'pricing' };
  const scoped = (parseAuthorization(req.headers.authorization) || {}).service;
  const service = json ? (Object.entries(prefixes).find(([p]) => target.startsWith(p)) || [null, '?'])[1]
                       : (scoped === 'sts' || scoped === 'iam' ? scoped : 'ec2');  // iam: iam.js
  const fail = json ? jsonError : service === 'iam' ? iam.iamError : ec2Error;
  if (['budgets', 'ce', 'pricing'].includes(service) && scoped && !req.headers.authorization.includes('/us-east-1/'))
    return fail(res, 400, 'InvalidSignatureException', 'Credential should be scoped to a valid region: us-east-1');
  stats.attempts[action] = (stats.attempts[action] || 0) + 1;
  const bad = await verify(req, body, service);
  if (bad) { stats.rejected += 1; return fail(res, ...bad); }
  const auth = parseAuthorization(req.headers.authorization);
  stats.requests.push({ action, key: auth.key, token: !!req.headers['x-amz-security-token'],
                        signed: auth.signed, contentType: req.headers['content-type'], body,
                        target: req.headers['x-amz-target'] });
  const fault = takeFault(action);
  if (fault && !fault.after) return fail(res, fault.status || 400, fault.code, fault.message || fault.code + ' (injected by the fake)');
  if (fault) {
    // The call takes effect, then its reply is lost (`after`): what a retry must not repeat.
    await handle2(req, { writeHead() {}, end() {} }, body, json, action, service);
    return fail(res, fault.status || 500, fault.code, fault.message || fault.code + ' (injected by the fake)');
  }
  return handle2(req, res, body, json, action, service);
}

async function handle2(req, res, body, json, action, service) {
  if (service === 'sts') {
    if (new URLSearchParams(body).get('Version') !== '2011-06-15') return ec2Error(res, 400, 'InvalidParameterValue', 'Version');
    if (action !== 'GetCallerIdentity') return ec2Error(res, 400, 'InvalidAction', action);
    res.writeHead(200, { 'Content-Type': 'text/xml' });
    return res.end('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
                   '<Arn>arn:aws:iam::123456789012:user/d2l</Arn><UserId>AIDAFAKE</UserId><Account>123456789012</Account>' +
                   '</GetCallerIdentityResult><ResponseMetadata><RequestId>' + crypto.randomUUID() + '</RequestId></ResponseMetadata></GetCallerIdentityResponse>');
  }
  if (service === 'budgets' || service === 'ce') return billing(action, JSON.parse(body || '{}'), res);
  if (service === 'pricing') {
    if (action !== 'GetProducts') return jsonError(res, 400, 'UnknownOperationException', '');
    return prices.getProducts(state, JSON.parse(body || '{}'), (o) => jsonOk(res, o), (...e) => jsonError(res, ...e));
  }
  if (service === 'iam') return iam.handle(req, action, new URLSearchParams(body), state, res);  // iam.js
  if (json) {
    if (action === 'GetParameter') {
      const name = JSON.parse(body || '{}').Name;
      if (!(name in state.parameters)) return jsonError(res, 400, 'ParameterNotFound', '');
      res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
      return res.end(JSON.stringify({ Parameter: { Name: name, Type: 'String', Value: state.parameters[name], Version: 1 } }));
    }
    if (sagemakerActions[action]) {
      settleNotebooks();
      const roleFault = action === 'CreateNotebookInstance' && iam.notebookRoleFault(JSON.parse(body || '{}'), state);  // iam.js
      if (roleFault) return jsonError(res, 400, ...roleFault);
      return sagemakerActions[action](JSON.parse(body || '{}'), res);
    }
    return jsonError(res, 400, 'UnknownOperationException', '');
  }
  const form = new URLSearchParams(body);
  if (form.get('Version') !== '2016-11-15') return ec2Error(res, 400, 'InvalidParameterValue', 'Version must be 2016-11-15');
  settle();
  // DryRun=true: the permission was checked (faults above play a refusal); nothing changes.
  if (form.get('DryRun') === 'true')
    return ec2Error(res, 412, 'DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
  if (action === 'DescribeInstances') return describeInstances(form, res);
  if (transitions[action]) return changeInstances(action, form, res);
  if (launchActions[action]) return launchActions[action](form, res);
  return ec2Error(res, 400, 'InvalidAction', 'The action ' + action + ' is not valid for this web service.');
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((e) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(e && e.stack || e));
    });
  });
});
const portFile = process.argv[2];
if (!portFile) {
  console.error('usage: node server.js PORT_FILE');
  process.exit(2);
}
server.listen(0, '127.0.0.1', () => {
  const tmp = portFile + '.tmp';
  fs.writeFileSync(tmp, String(server.address().port));
  fs.renameSync(tmp, portFile);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
