/**
 * Runs the SageMaker stand-in on its own and prints every event it emits, one JSON per line:
 *
 *   npx tsx local/sagemaker/main.ts [--port 4599] [--state .local/sagemaker/state.json] [--region us-east-1] [--account 123456789012]
 */
import { parseArgs } from 'node:util';
import { startSageMakerStandIn } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4599' },
    host: { type: 'string', default: '127.0.0.1' },
    state: { type: 'string' },
    region: { type: 'string', default: 'us-east-1' },
    account: { type: 'string', default: '123456789012' },
  },
});

const standIn = await startSageMakerStandIn({
  port: Number(values.port),
  host: values.host,
  region: values.region,
  account: values.account,
  ...(values.state ? { stateFile: values.state } : {}),
  onEvent: async (e) => {
    process.stdout.write(`${JSON.stringify(e)}\n`);
  },
});
console.error(`SageMaker stand-in on ${standIn.url}${values.state ? ` (state in ${values.state})` : ' (in memory)'}`);
console.error(`  export AWS_ENDPOINT_URL_SAGEMAKER=${standIn.url}`);

const stop = () => {
  standIn.close().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
