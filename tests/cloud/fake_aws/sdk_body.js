// The test oracle for our requests: prints what AWS's own SDK sends for a call, without
// sending it. The Query-protocol clients (`ec2`: @aws-sdk/client-ec2, the default; `iam`:
// @aws-sdk/client-iam): the form body. The JSON-protocol clients
// (`ssm`: @aws-sdk/client-ssm, `sagemaker`: @aws-sdk/client-sagemaker, `pricing`:
// @aws-sdk/client-pricing): a JSON object {target, contentType, body} with the X-Amz-Target
// and Content-Type headers and the body.
//
//   node sdk_body.js '{"command": "StopInstances", "input": {"InstanceIds": ["i-1"]}}'
//   node sdk_body.js '{"client": "ssm", "command": "GetParameter", "input": {"Name": "/a"}}'
//   node sdk_body.js @FILE      (the same JSON, read from FILE)
'use strict';
process.removeAllListeners('warning');  // the SDK's notice about node versions

const clients = {
  ec2: ['@aws-sdk/client-ec2', 'EC2Client'],
  ssm: ['@aws-sdk/client-ssm', 'SSMClient'],
  sagemaker: ['@aws-sdk/client-sagemaker', 'SageMakerClient'],
  pricing: ['@aws-sdk/client-pricing', 'PricingClient'],
  iam: ['@aws-sdk/client-iam', 'IAMClient'],
};

async function main() {
  const arg = process.argv[2] || '';
  const text = arg.startsWith('@') ? require('fs').readFileSync(arg.slice(1), 'utf8') : arg;
  const { client: name = 'ec2', command, input } = JSON.parse(text);
  if (!clients[name]) throw new Error('no such client: ' + name);
  const sdk = require(clients[name][0]);
  // Timestamps are Date objects in the SDK's input.
  for (const k of ['StartTime', 'EndTime']) if (typeof input[k] === 'string') input[k] = new Date(input[k]);
  const Command = sdk[command + 'Command'];
  if (!Command) throw new Error('no such ' + name + ' command: ' + command);
  let request = null;
  const client = new sdk[clients[name][1]]({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDORACLE', secretAccessKey: 'oracle' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (r) => {
        request = r;
        throw new Error('captured');
      },
    },
  });
  try {
    await client.send(new Command(input));
  } catch (e) {
    if (request === null) throw e;
  }
  const body = request.body instanceof Uint8Array ? Buffer.from(request.body).toString('utf8') : String(request.body);
  if (name === 'ec2' || name === 'iam') return process.stdout.write(body);
  const header = (h) => Object.entries(request.headers).find(([k]) => k.toLowerCase() === h)?.[1] ?? null;
  process.stdout.write(JSON.stringify({ target: header('x-amz-target'), contentType: header('content-type'),
                                        body }));
}

main().catch((e) => {
  console.error('sdk_body: ' + e.message);
  process.exit(1);
});
