// The test oracle for our requests' parameters: prints the form body that AWS's own SDK
// (@aws-sdk/client-ec2) sends for an EC2 call, without sending it.
//
//   node sdk_body.js '{"command": "StopInstances", "input": {"InstanceIds": ["i-1"]}}'
//   node sdk_body.js @FILE      (the same JSON, read from FILE)
'use strict';
process.removeAllListeners('warning');  // the SDK's notice about node versions
const ec2 = require('@aws-sdk/client-ec2');

async function main() {
  const arg = process.argv[2] || '';
  const text = arg.startsWith('@') ? require('fs').readFileSync(arg.slice(1), 'utf8') : arg;
  const { command, input } = JSON.parse(text);
  // Timestamps are Date objects in the SDK's input.
  for (const k of ['StartTime', 'EndTime']) if (typeof input[k] === 'string') input[k] = new Date(input[k]);
  const Command = ec2[command + 'Command'];
  if (!Command) throw new Error('no such EC2 command: ' + command);
  let body = null;
  const client = new ec2.EC2Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDORACLE', secretAccessKey: 'oracle' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request) => {
        body = request.body;
        throw new Error('captured');
      },
    },
  });
  try {
    await client.send(new Command(input));
  } catch (e) {
    if (body === null) throw e;
  }
  process.stdout.write(String(body));
}

main().catch((e) => {
  console.error('sdk_body: ' + e.message);
  process.exit(1);
});
