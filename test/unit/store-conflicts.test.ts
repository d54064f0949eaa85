import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient, TransactWriteItemsCommand, TransactionCanceledException, type CancellationReason } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../shared/aws/clients.js';
import type { TrainingJob } from '../../shared/domain/lineage.js';
import type { ModelVersion } from '../../shared/domain/version.js';
import { dynamoStore } from '../../shared/store/dynamo-store.js';

/**
 * What a cancelled commit tells its retry (ports.ts ContextCommit), from the cancellation reasons
 * DynamoDB sends. DynamoDB Local answers ConditionalCheckFailed with the item in the integration
 * tests (conflict-findings.test.ts); a TransactionConflict reason, which DynamoDB Local does not
 * produce on demand, is answered here by the mocked client.
 */
// The store sends its commands, as low-level ones (attributes.ts), through the document client.
const ddb = mockClient(DynamoDBDocumentClient);
const store = dynamoStore({ client: documentClient(new DynamoDBClient({ region: 'us-east-1' })), table: 'modelgate-test' });
const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/3';
const ARTIFACT = 's3://acme-ml-artifacts-123456789012/fraud-detector/training/job-1/output/model.tar.gz';

const version: ModelVersion = {
  arn: ARN,
  group: 'fraud-detector',
  version: 3,
  status: 'PendingManualApproval',
  lastModified: 1795772642000,
  createdAt: 1795772642000,
  artifactUri: ARTIFACT,
  customerMetadata: {},
  gateState: 'awaiting-job',
  pendingEffects: {},
};
const job: TrainingJob = {
  name: 'job-1',
  arn: 'arn:aws:sagemaker:us-east-1:123456789012:training-job/job-1',
  status: 'Completed',
  lastModified: 1795772000000,
  hyperparameters: {},
  datasets: [{ channel: 'train', uri: 's3://acme-ml-datasets-123456789012/fraud/train.csv' }],
  artifactUri: ARTIFACT,
  metrics: {},
  tags: {},
};

const cancelled = (reasons: CancellationReason[]) =>
  new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: reasons });
const sentItems = () => ddb.commandCalls(TransactWriteItemsCommand)[0]?.args[0].input.TransactItems ?? [];
const awaiting = () => store.commitVersionChange({ version, expectedRev: 0, audit: [], awaitArtifact: { uri: ARTIFACT, expectedRev: 4 } });

beforeEach(() => ddb.reset());

test('every conditioned item of a version commit asks for itself back on a failed condition; unconditioned ones do not', async () => {
  ddb.on(TransactWriteItemsCommand).resolves({});
  await store.commitVersionChange({ version: { ...version, gateState: 'passed', job: { name: job.name, arn: job.arn } }, expectedRev: 2, audit: [], linkArtifact: { uri: ARTIFACT, datasets: job.datasets, job: job.name } });
  const items = sentItems();
  expect(items.map((t) => [Object.keys(t)[0], (t.Put ?? t.Update)?.ReturnValuesOnConditionCheckFailure ?? null])).toEqual([
    ['Put', 'ALL_OLD'], // the version (rev = 2)
    ['Put', null], // its edge to the dataset: no condition
    ['Update', 'ALL_OLD'], // the artifact node (attribute_exists(producer))
  ]);
});

test('a version commit whose version and artifact conditions failed: the version as stored, and the artifact node that is not there', async () => {
  ddb.on(TransactWriteItemsCommand).rejects(
    cancelled([
      { Code: 'ConditionalCheckFailed', Item: { PK: { S: 'GROUP#fraud-detector' }, SK: { S: 'VERSION#0000000003' }, arn: { S: ARN }, gateState: { S: 'passed' }, rev: { N: '5' }, waitingOn: { SS: ['a'] } } },
      { Code: 'ConditionalCheckFailed' },
    ]),
  );
  const answer = await awaiting();
  expect(answer).toEqual({ conflict: true, current: { version: { arn: ARN, gateState: 'passed', rev: 5, waitingOn: ['a'] }, artifact: null } });
});

test('a cancellation with a reason that is not a failed condition (a transaction in flight on the item) names nothing: the retry reads again', async () => {
  ddb.on(TransactWriteItemsCommand).rejects(cancelled([{ Code: 'ConditionalCheckFailed', Item: { PK: { S: 'x' }, SK: { S: 'y' }, rev: { N: '5' } } }, { Code: 'TransactionConflict' }]));
  expect(await awaiting()).toEqual({ conflict: true });
});

test('a job commit where only an item outside the job context failed names nothing', async () => {
  ddb.on(TransactWriteItemsCommand).rejects(
    cancelled([{ Code: 'None' }, { Code: 'None' }, { Code: 'None' }, { Code: 'ConditionalCheckFailed', Item: { PK: { S: 'GROUP#fraud-detector' }, SK: { S: 'VERSION#0000000003' }, rev: { N: '9' } } }]),
  );
  const answer = await store.commitJobChange({
    job,
    expectedRev: 1,
    audit: [],
    artifact: { uri: ARTIFACT, expectedRev: 2 },
    linkedVersions: [{ group: 'fraud-detector', version: 3, arn: ARN, expectedRev: 8, trainedBy: 'arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/alice', datasets: [] }],
  });
  expect(sentItems()).toHaveLength(4); // the job, its dataset edge, the artifact node, the linked version
  expect(answer).toEqual({ conflict: true });
});

test('a cancellation with no failed condition at all is not a conflict: the error reaches the caller', async () => {
  ddb.on(TransactWriteItemsCommand).rejects(cancelled([{ Code: 'None' }, { Code: 'ValidationError', Message: 'Item size has exceeded the maximum allowed size' }]));
  await expect(awaiting()).rejects.toThrow(TransactionCanceledException);
});
