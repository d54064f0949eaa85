/**
 * The scale part of `npm run bench`: 10,000 versions in one group, 1,000 training jobs on one
 * dataset and 500 endpoints serving its Approved versions (written straight into the table with
 * the store's own keys), then the round trips and time of getLineage, datasetImpact (per page),
 * listPendingReviews (per page) and listUnapprovedDeployments (per page). Every request is counted
 * by command; a Scan would show up.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { seedItems } from './seed-table.js';
import { gsi, keys } from '../shared/store/keys.js';
import { dynamoStore } from '../shared/store/dynamo-store.js';
import { getLineage } from '../shared/usecases/lineage.js';
import { datasetImpact } from '../shared/usecases/impact.js';
import { listPendingReviews } from '../shared/usecases/pending.js';
import { listUnapprovedDeployments } from '../shared/usecases/deployments.js';
import type { Deps } from '../shared/ports.js';

const VERSIONS = 10_000;
const JOBS = 1_000;
const OPEN_REVIEWS = 2_000;
/** Endpoint i (1–500) serves version 10·i, one of the group's Approved versions. */
const ENDPOINTS = 500;
const ENDPOINT = (i: number) => `scale-endpoint-${String(i).padStart(3, '0')}`;
const GROUP = 'scale-detector';
const BUCKET = 'acme-ml-datasets-123456789012';
const KEY = 'scale/transactions/2026-11-01/train/';
const ARN = (v: number) => `arn:aws:sagemaker:us-east-1:123456789012:model-package/${GROUP}/${v}`;
const JOB = (j: number) => `scale-xgb-${String(j).padStart(5, '0')}`;

export async function benchScale(doc: DynamoDBDocumentClient, table: string, counts: Map<string, number>): Promise<void> {
  const t0 = performance.now();
  const items: Record<string, unknown>[] = [];
  for (let j = 0; j < JOBS; j++) {
    const name = JOB(j);
    const arn = `arn:aws:sagemaker:us-east-1:123456789012:training-job/${name}`;
    items.push({ ...keys.job(name), type: 'TrainingJob', name, arn, status: 'Completed', lastModified: 1, hyperparameters: {}, metrics: { 'validation:auc': 0.9 }, datasets: [{ channel: 'train', uri: `s3://${BUCKET}/${KEY}` }], tags: {}, rev: 1 });
    items.push({ ...keys.jobInput(name, 'train'), ...gsi.dataset(BUCKET, KEY, name), type: 'DatasetInput', channel: 'train', uri: `s3://${BUCKET}/${KEY}`, job: name, jobArn: arn });
  }
  const now = Date.parse('2026-11-27T12:00:00Z');
  for (let v = 1; v <= VERSIONS; v++) {
    const job = JOB(v % JOBS);
    items.push({
      ...keys.version(GROUP, v),
      type: 'ModelVersion',
      arn: ARN(v),
      group: GROUP,
      version: v,
      status: v % 10 === 0 ? 'Approved' : 'PendingManualApproval',
      lastModified: now + v,
      createdAt: now + v,
      customerMetadata: {},
      job: { name: job, arn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${job}` },
      gateState: 'passed',
      pendingEffects: {},
      ...(v % 10 === 0 && v / 10 <= ENDPOINTS ? { servedBy: new Set([`${ENDPOINT(v / 10)}/AllTraffic`]) } : {}),
      rev: 1,
    });
    if (v % 10 === 0 && v / 10 <= ENDPOINTS) {
      const name = ENDPOINT(v / 10);
      items.push({
        ...keys.endpoint(name),
        ...gsi.servingEndpoint(name),
        type: 'Endpoint',
        name,
        arn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${name}`,
        status: 'InService',
        configName: `${name}-config`,
        lastModified: now + v,
        served: [{ variant: 'AllTraffic', model: `${name}-model`, modelPackageArn: ARN(v), group: GROUP, version: v }],
        pendingEffects: {},
        rev: 1,
      });
    }
    items.push({ ...keys.versionInput(GROUP, v, 'train'), ...gsi.datasetOfVersion(BUCKET, KEY, ARN(v)), type: 'VersionInput', channel: 'train', uri: `s3://${BUCKET}/${KEY}`, job, modelPackageArn: ARN(v), group: GROUP, version: v });
    if (v <= OPEN_REVIEWS) {
      const id = `r${v}`;
      const openedAt = new Date(now + v * 1000).toISOString();
      items.push({ ...keys.review(GROUP, v, id), ...gsi.openReview(openedAt, id), ...gsi.openReviewOfGroup(GROUP, openedAt, id), type: 'ReviewRequest', id, modelPackageArn: ARN(v), group: GROUP, version: v, status: 'Open', openedAt, expiresAt: openedAt, policyVersion: 1, requiredApprovals: 2, allowSelfApproval: false, reminderAfterHours: 24, reviewers: ['a@x.example', 'b@x.example'], links: {}, votes: {}, remindedAt: {}, rev: 1 });
    }
  }
  // Seeding is not measured.
  await seedItems(doc, table, items);
  console.log(`\nScale: ${VERSIONS.toLocaleString('en')} versions in one group, ${JOBS.toLocaleString('en')} jobs on one dataset, ${OPEN_REVIEWS.toLocaleString('en')} open reviews, ${ENDPOINTS} endpoints (${items.length.toLocaleString('en')} items seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  console.log(`${'call'.padEnd(52)} ${'requests'.padStart(8)}  by command${' '.repeat(30)} ms`);

  const deps = { store: dynamoStore({ client: doc, table }) } as unknown as Deps;
  const measure = async (name: string | (() => string), call: () => Promise<unknown>) => {
    counts.clear();
    const t = performance.now();
    await call();
    const ms = performance.now() - t;
    const label = typeof name === 'string' ? name : name();
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const by = [...counts.entries()].map(([k, n]) => `${k.replace('Command', '')} ${n}`).join(', ');
    console.log(`${label.padEnd(52)} ${String(total).padStart(8)}  ${by.padEnd(40)} ${ms.toFixed(1)}`);
    if (counts.has('ScanCommand')) throw new Error(`${label} used a Scan`);
  };
  await measure('getLineage (version 5,000)', () => getLineage(deps, { modelPackageGroupName: GROUP, version: 5_000 }));
  // The dataset's 1,000 job edges sort before its 10,000 version edges: pages 1-10 hold jobs, 11 on versions.
  let cursor: string | undefined;
  // Every tenth version up to 5,000 is Approved and served by an endpoint.
  for (let page = 1; page <= 12; page++) {
    let endpoints = 0;
    const call = async () => {
      const r = await datasetImpact(deps, { s3Uri: `s3://${BUCKET}/${KEY}`, limit: 100, ...(cursor ? { cursor } : {}) });
      cursor = r.cursor;
      endpoints = r.endpoints.length;
    };
    if ([1, 10, 11, 12].includes(page)) await measure(() => `datasetImpact, page ${page} (100 edges, ${endpoints} endpoints)`, call);
    else await call();
    // Job edges (pages 1-10) reach no endpoint; version edges do (their order is the ARN's, as text).
    if ((page >= 11) !== endpoints > 0) throw new Error(`datasetImpact page ${page} named ${endpoints} endpoints`);
  }
  cursor = undefined;
  for (let page = 1; page <= 3; page++) {
    await measure(`listPendingReviews, page ${page} (100)`, async () => {
      const r = await listPendingReviews(deps, { limit: 100, ...(cursor ? { cursor } : {}) });
      cursor = r.cursor;
    });
  }
  cursor = undefined;
  for (let page = 1; page <= 2; page++) {
    await measure(`listUnapprovedDeployments, page ${page} (100)`, async () => {
      const r = await listUnapprovedDeployments(deps, { limit: 100, all: true, ...(cursor ? { cursor } : {}) });
      cursor = r.cursor;
      // Approved outside modelgate (no decision in the seed): every endpoint is listed.
      if (r.deployments.length !== 100) throw new Error(`listUnapprovedDeployments listed ${r.deployments.length}, not 100`);
    });
  }
}
