/**
 * The review page against the version in production (issue 10): the group's newest Approved
 * version, found in its sparse GSI1 partition on DynamoDB Local, compared with the version under
 * review; and the identity map in the policy deciding separation of duties.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeModelPackageCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../../shared/ports.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { showReview, submitVote } from '../../shared/usecases/review.js';
import { groupScope } from '../../shared/domain/audit.js';
import { scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { openSampleReview, resetMocks, reviewTokens, testDeps } from '../support/story.js';
import { DIGEST_V1, DIGEST_V2, TRAIN, TRAIN_DEC, asVersion2, packageEvent, recordVersion2Job } from '../support/production.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';

let table: TestTable;
const clock = { now: Date.parse('2026-11-27T12:00:00Z') };
let deps: Deps;

beforeAll(async () => {
  table = await newTable('evidence');
  deps = testDeps(table.client, table.tableName, clock);
});
afterAll(() => table.drop());
beforeEach(() => {
  clock.now = Date.parse('2026-11-27T12:00:00Z');
  resetMocks(sm, sns, s3);
});

type Story = Awaited<ReturnType<typeof openSampleReview>>['s'];

/** The version as the registry reports it after a status change. */
const statusEvent = (s: Story, version: number, status: string, at: string) =>
  packageEvent(s, (d) => {
    if (version === 2) asVersion2(s, d);
    d['ModelApprovalStatus'] = status;
    d['LastModifiedTime'] = at;
  });

/** Opens v2's review and returns each reviewer's token. */
async function openVersion2(s: Story): Promise<Record<string, string>> {
  sns.resetHistory();
  await recordVersion2Job(deps, sm, s);
  const opened = await handleModelPackageChange(deps, packageEvent(s, (d) => asVersion2(s, d)));
  expect(opened.outcome).toBe('review-opened');
  return reviewTokens(sns.commandCalls(PublishCommand).map((c) => c.args[0].input));
}

/** v1 approved by its reviewer, and SageMaker's Approved event recorded. */
async function approveVersion1(s: Story, tokens: Record<string, string>): Promise<void> {
  expect((await submitVote(deps, tokens[RISK] ?? '', { decision: 'approve' })).status).toBe(200);
  expect((await handleModelPackageChange(deps, statusEvent(s, 1, 'Approved', '2026-11-27T10:12:48Z'))).outcome).toBe('recorded');
}

const textOf = (page: string): string =>
  page
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/** The rows of the table with this test id, as text, without the header row. */
function rowsOf(page: string, testid: string): string[] {
  const start = page.indexOf(`data-testid="${testid}"`);
  if (start === -1) throw new Error(`the page has no ${testid}`);
  const tableHtml = page.slice(start, page.indexOf('</table>', start));
  return tableHtml.split('<tr>').slice(2).map((r) => textOf(r).trim());
}

describe('against the version in production', () => {
  it('a group with an Approved v1 and v2 under review: the page shows the exact differences', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'evprod', { requiredApprovals: 1 });
    await approveVersion1(s, tokens);
    const v2Tokens = await openVersion2(s);

    const page = await showReview(deps, v2Tokens[LEAD] ?? '');

    expect(page.status).toBe(200);
    const text = textOf(page.body);
    expect(text).toContain(`Compared with version 1, the group's newest Approved version (approved at 2026-11-27 12:00 UTC ): ${s.arn(1)}`);
    expect(rowsOf(page.body, 'production-metrics')).toEqual([
      'validation:auc training job 0.894 0.912 -0.018',
      'validation:logloss training job 0.25 none n/a',
      'trainingJob:validation:auc metric gate 0.894 0.912 -0.018',
      'evaluationReport:binary_classification_metrics.auc metric gate 0.907 0.907 0',
      'customerMetadata:fairness_review metric gate 1 1 0',
    ]);
    expect(rowsOf(page.body, 'production-datasets')).toEqual([`added train ${TRAIN_DEC}`, `removed train ${TRAIN}`]);
    expect(rowsOf(page.body, 'production-hyperparameters')).toEqual(['eta changed 0.2 0.1', 'subsample added none 0.8']);
    expect(rowsOf(page.body, 'production-images')).toEqual([`image digest ${DIGEST_V1} ${DIGEST_V2}`]);
    // The gate's verdict beside the decision form, near the top.
    expect(text).toContain('Your decision Metric gate: 3 of 3 metric rules pass.');
    expect(page.body.indexOf('data-testid="decision-form"')).toBeLessThan(page.body.indexOf('data-testid="production-metrics"'));
  });

  it('a group with no Approved version says so', async () => {
    const { tokens } = await openSampleReview(deps, { sm, sns }, 'evnone');
    const page = await showReview(deps, tokens[RISK] ?? '');
    expect(textOf(page.body)).toContain('Against the version in production No approved version yet: this group has no Approved version to compare with.');
    expect(page.body).not.toContain('production-metrics');
  });

  it('a version whose approval was reverted (back to PendingManualApproval) is not in production', async () => {
    const { s } = await openSampleReview(deps, { sm, sns }, 'evrevert');
    // Approved in the console, with no decision behind it: the guard reverts it.
    expect((await handleModelPackageChange(deps, statusEvent(s, 1, 'Approved', '2026-11-27T10:12:48Z'))).outcome).toBe('approval-reverted');
    expect(sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input.ModelApprovalStatus)).toEqual(['PendingManualApproval']);
    expect((await handleModelPackageChange(deps, statusEvent(s, 1, 'PendingManualApproval', '2026-11-27T10:13:05Z'))).outcome).toBe('recorded');
    const stored = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: { PK: `GROUP#${s.group}`, SK: 'VERSION#0000000001' } }));
    expect(stored.Item?.['status']).toBe('PendingManualApproval');
    expect(stored.Item?.['GSI1PK']).toBeUndefined();

    const v2Tokens = await openVersion2(s);
    expect(await deps.store.newestApprovedVersion(s.group)).toBeUndefined();
    expect(textOf((await showReview(deps, v2Tokens[RISK] ?? '')).body)).toContain('No approved version yet');
  });
});

describe('the store: the newest Approved version', () => {
  it('is the newest Approved one, with its training job; the version under review is left out', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'evstore', { requiredApprovals: 1 });
    await approveVersion1(s, tokens);
    const item = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: { PK: `GROUP#${s.group}`, SK: 'VERSION#0000000001' } }));
    expect(item.Item).toMatchObject({ GSI1PK: `APPROVED#${s.group}`, GSI1SK: '0000000001' });

    const v2Tokens = await openVersion2(s);
    const v1Job = s.job('training-job-completed.json').TrainingJobName;
    expect(await deps.store.newestApprovedVersion(s.group)).toMatchObject({ version: { version: 1, status: 'Approved' }, job: { name: v1Job } });

    // v2 approved too: it is now the version in production, and from v2's own page, v1 is.
    clock.now = Date.parse('2026-11-27T13:00:00Z');
    expect((await submitVote(deps, v2Tokens[RISK] ?? '', { decision: 'approve' })).status).toBe(200);
    expect((await handleModelPackageChange(deps, statusEvent(s, 2, 'Approved', '2026-11-27T13:00:05Z'))).outcome).toBe('recorded');
    const newest = await deps.store.newestApprovedVersion(s.group);
    expect(newest).toMatchObject({ version: { version: 2 }, job: { name: `${v1Job}-v2` } });
    expect(newest?.job).not.toHaveProperty('rev');
    expect(await deps.store.newestApprovedVersion(s.group, { except: 2 })).toMatchObject({ version: { version: 1 } });
    expect(await deps.store.newestApprovedVersion(s.group, { except: 1 })).toMatchObject({ version: { version: 2 } });
    expect(await deps.store.newestApprovedVersion('evstore-elsewhere')).toBeUndefined();
  });
});

describe('separation of duties by the identity map', () => {
  it('refuses the mapped registrant, shows them by name, and the page does not call the check a heuristic', async () => {
    const principal = 'arn:aws:sts::123456789012:assumed-role/DataScientist/a.lead-session-7';
    sm.on(DescribeModelPackageCommand).resolves({ CreatedBy: { IamIdentity: { Arn: principal } } });
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'evmap', {
      identities: { [LEAD]: { iamPrincipals: ['arn:aws:sts::123456789012:assumed-role/*/a.lead-*'] } },
    });

    const page = await showReview(deps, tokens[LEAD] ?? '');
    const text = textOf(page.body);
    expect(text).toContain(`Registered by ${LEAD} ${principal}`);
    expect(page.body).not.toContain('self-approval-heuristic');
    expect(page.body).toMatch(/<button[^>]*value="approve"[^>]*disabled/);
    expect(text).toContain("You registered this version (by the policy's identity map); its policy does not allow self-approval.");
    // The risk officer is not in the map's patterns: the page lets them approve.
    expect((await showReview(deps, tokens[RISK] ?? '')).body).not.toMatch(/<button[^>]*value="approve"[^>]*disabled/);
    // The vote is judged by the map too: the session name `a.lead-session-7` matches no address by
    // name, so the name heuristic alone would have let the registrant approve.
    const vote = await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' });
    expect(vote.status).toBe(403);
    expect(textOf(vote.body)).toContain('Separation of duties');
    const refusals = (await scopeEntries(deps, groupScope(s.group))).filter((e) => e.action === 'review.refused');
    expect(refusals.map((e) => [e.actor, e.detail['kind'], e.detail['reason']])).toEqual([
      [LEAD, 'self-approval', "You registered this version (by the policy's identity map), and its policy does not allow self-approval."],
    ]);
  });

  it('without a map, the page says the check is a heuristic on names', async () => {
    const { tokens } = await openSampleReview(deps, { sm, sns }, 'evheur');
    const page = await showReview(deps, tokens[RISK] ?? '');
    expect(textOf(page.body)).toContain("This group's policy maps no identities, so the self-approval check is a heuristic on names");
    expect(textOf(page.body)).toContain("Registered by arn:aws:sts::123456789012:assumed-role/SageMakerPipelineRole/fraud-detector-train the group's policy has no identity map");
  });
});
