/**
 * `npm run demo`: a realistic story against the running local stack (`npm start`).
 *
 *   1. the group's policy: validation:auc >= 0.85, two reviewers, one approval needed, unapproved
 *      deployments followed up
 *   2. two training jobs complete (auc 0.912 and 0.801)
 *   3. two versions register; the weak one is rejected with the reason, the good one opens a review
 *   4. each reviewer's link is printed (from the SNS outbox); the demo waits until someone opens
 *      one, signs in at the local identity provider as the reviewer it names, and approves
 *   5. the registry shows Approved; the demo prints the lineage
 *   6. the approved version is deployed: CreateModel from the version, CreateEndpointConfig,
 *      CreateEndpoint; the endpoint's event is recorded, and getLineage lists the endpoint
 *   7. the training data is withdrawn: datasetImpact revokes the version; the registry shows
 *      Rejected, the governance notice names the endpoint, listUnapprovedDeployments lists it
 *   8. the audit log is checkpointed, verified, exported and checked offline (npm run audit:verify)
 *   9. a third version (trained on newer data) passes its policy; its review is left open, so that
 *      the README's runbook has an open review to list and a reviewer to send a new link
 *
 * Everything goes through the real interfaces: SageMaker's API (the stand-in), the functions'
 * Lambda endpoint (serverless-offline), the review page. Only the lineage (step 5) and the
 * endpoint's record (step 6) are read from the table.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeModelPackageCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { documentClient } from '../shared/aws/clients.js';
import { dynamoStore } from '../shared/store/dynamo-store.js';
import type { ImpactReport } from '../shared/usecases/impact.js';
import type { LineageDocument } from '../shared/usecases/lineage.js';
import type { UnapprovedDeploymentRow } from '../shared/usecases/deployments.js';
import { localConfig } from './config.js';
import { invokeFunction } from './lambda.js';
import type { OutboxMessage } from './sns/outbox.js';

const cfg = localConfig();
Object.assign(process.env, cfg.awsEnv);
const timeoutMs = Number(process.env.MODELGATE_DEMO_TIMEOUT_MS ?? 30 * 60_000);
// The policy is the runbook's sample, so that `npx modelgate put-policy --file …` after the demo
// finds it unchanged.
const POLICY = JSON.parse(readFileSync(new URL('../events/policy-credit-default-demo.json', import.meta.url), 'utf8')) as { modelPackageGroupName: string; reviewers: string[] };
const GROUP = POLICY.modelPackageGroupName;
const REVIEWERS = POLICY.reviewers;
const run = new Date().toISOString().replace(/[-:T.Z]/g, '').slice(0, 14); // unique job names per run
const ACCOUNT = cfg.account;
const DATASETS = `s3://acme-ml-datasets-${ACCOUNT}/credit/applications/2026-11-01`;
const NEWER_DATASETS = `s3://acme-ml-datasets-${ACCOUNT}/credit/applications/2026-12-01`;
const ARTIFACTS = `s3://acme-ml-artifacts-${ACCOUNT}/credit-default/training`;
const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole-credit`;
// The endpoint (and its model and configuration) of this run; SageMaker names: [a-zA-Z0-9-], ≤ 63.
const ENDPOINT = `credit-default-${run}`;
const VARIANT = 'AllTraffic';
// The channel whose data is withdrawn in step 7, and who withdraws it.
const WITHDRAWN = `${DATASETS}/train/`;
const RESPONDER = `arn:aws:sts::${ACCOUNT}:assumed-role/IncidentResponder/demo`;

const sagemaker = new SageMakerClient({});
const store = dynamoStore({ client: documentClient(new DynamoDBClient({})), table: cfg.table });
const say = (text: string) => console.log(text);
const startedAt = Date.now();

try {
  await main();
  process.exit(0);
} catch (e) {
  console.error(`demo failed: ${(e as Error).message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  say(`1. Policy for ${GROUP}: validation:auc >= 0.85, reviewers ${REVIEWERS.join(', ')}, 1 approval, unapproved deployments followed up`);
  const put = await invokeFunction(cfg.lambdaUrl, 'modelgate-local-putPolicy', POLICY);
  if (!put.ok) throw new Error(`putPolicy failed: ${JSON.stringify(put.result)}`);
  say(`   putPolicy → ${(put.result as { outcome: string }).outcome}, policy version ${(put.result as { policy: { version: number } }).policy.version}`);
  await sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: GROUP, ModelPackageGroupDescription: 'Credit default (demo)' })).catch((e: Error) => {
    if (!/exist/i.test(e.message)) throw e;
  });

  say('2. Two training jobs complete');
  const good = await trainingJob(`credit-xgb-${run}-a`, 0.912);
  const weak = await trainingJob(`credit-xgb-${run}-b`, 0.801);

  say('3. Two versions register');
  const goodArn = await register(good, 'XGBoost credit default, depth 6');
  const weakArn = await register(weak, 'XGBoost credit default, depth 12 (overfits)');
  const rejected = await until(`${weakArn} rejected`, async () => {
    const d = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: weakArn }));
    return d.ModelApprovalStatus === 'Rejected' ? d : undefined;
  });
  say(`   ${weakArn}\n     → Rejected: ${rejected.ApprovalDescription ?? ''}`);
  const links = await until('review links in the outbox', async () => {
    const found = reviewLinks(goodArn);
    return found.length === REVIEWERS.length ? found : undefined;
  });
  say(`   ${goodArn}\n     → passed its policy; a review is open. Each reviewer's personal link:`);
  for (const l of links) say(`       ${l.reviewer.padEnd(32)} ${l.url}`);

  say(`4. Waiting for a reviewer to approve on the review page. Open a link above in a browser, press
   "Sign in", and sign in at the local identity provider (${cfg.oidc.issuer}) as the reviewer the link
   names: it asks for the address only, no password. Anyone else is refused. Then approve…`);
  await until(`${goodArn} approved`, async () => {
    const d = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: goodArn }));
    return d.ModelApprovalStatus === 'Approved' ? d : undefined;
  });
  say(`   ${goodArn} → Approved in the registry`);

  say('5. Lineage');
  const version = await until('the Approved event recorded', async () => {
    const v = await store.getVersion({ group: GROUP, version: Number(goodArn.split('/').at(-1)) });
    return v?.status === 'Approved' ? v : undefined;
  });
  const job = version.job ? await store.getTrainingJob(version.job.name) : undefined;
  say(`   model version   ${version.arn}`);
  say(`   training job    ${job?.arn ?? 'unlinked'}`);
  for (const d of job?.datasets ?? []) say(`   dataset         ${d.channel}: ${d.uri}`);
  say(`   image           ${version.image ?? job?.image ?? ''}${version.imageDigest ? `@${version.imageDigest}` : ''}`);
  say(`   metrics         ${JSON.stringify(job?.metrics ?? {})}`);
  say(`   decision        ${version.decision?.id ?? ''}: ${version.decision?.outcome ?? ''} by ${version.decision?.approvers.join(', ') ?? ''} (policy v${version.decision?.policyVersion ?? ''})`);

  say(`6. The approved version is deployed to endpoint ${ENDPOINT}`);
  await deploy(goodArn);

  say(`7. The training data is withdrawn: datasetImpact revokes what was trained on ${WITHDRAWN}`);
  await revoke(goodArn);

  say('8. Audit trail');
  // The audit log: the local stack's stream poller sequences the entries; a checkpoint signs the
  // log (the schedule would, within minutes); verifyAuditTrail checks the table against it, and
  // the export is checked offline as an auditor would, with the public key alone.
  const sequenced = await until('the audit entries sequenced', async () => {
    const trail = await invokeFunction(cfg.lambdaUrl, 'modelgate-local-getAuditTrail', { modelPackageArn: goodArn });
    const items = (trail.result as { items?: Array<{ logIndex?: number }> }).items ?? [];
    return items.length > 0 && items.every((e) => e.logIndex !== undefined) ? items.length : undefined;
  });
  const cp = await invokeFunction(cfg.lambdaUrl, 'modelgate-local-checkpointAuditLog', {});
  if (!cp.ok) throw new Error(`checkpointAuditLog failed: ${JSON.stringify(cp.result)}`);
  const { checkpoint } = cp.result as { checkpoint: { logSize: number; rootHash: string } };
  say(`   audit log       ${sequenced} entries about this version sequenced; checkpoint: ${checkpoint.logSize} entries, root ${checkpoint.rootHash}`);
  const verified = await invokeFunction(cfg.lambdaUrl, 'modelgate-local-verifyAuditTrail', { full: true });
  const report = verified.result as { verified: boolean; logSize?: number; brokenAt?: string; reason?: string };
  if (!verified.ok || !report.verified) throw new Error(`the audit log does not verify: ${JSON.stringify(verified.result)}`);
  say(`   verifyAuditTrail: verified, ${report.logSize ?? 0} entries`);
  const exported = await invokeFunction(cfg.lambdaUrl, 'modelgate-local-exportAuditTrail', {});
  if (!exported.ok) throw new Error(`exportAuditTrail failed: ${JSON.stringify(exported.result)}`);
  const folder = (exported.result as { location: string }).location;
  say(`   exported to     ${folder}`);
  const offline = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', folder], { encoding: 'utf8' });
  const last = offline.stdout.trim().split('\n').at(-1) ?? '';
  say(`   npm run audit:verify -- ${folder}\n     → ${last}`);
  if (offline.status !== 0) throw new Error(`the export does not verify offline: ${last}`);

  say('9. A third version, trained on newer data, waits for its review (left open for the runbook)');
  const newer = await trainingJob(`credit-xgb-${run}-c`, 0.887, NEWER_DATASETS);
  const openArn = await register(newer, 'XGBoost credit default, depth 6, December data');
  const open = await until('review links of the third version', async () => {
    const found = reviewLinks(openArn);
    return found.length === REVIEWERS.length ? found : undefined;
  });
  say(`   ${openArn}\n     → passed its policy; its review is open (until it expires, or someone decides): ${open.map((l) => l.reviewer).join(', ')}`);
}

/**
 * Step 6: a model from the approved version (PrimaryContainer.ModelPackageName), a configuration
 * with one variant, an endpoint. The stand-in's "Endpoint State Change" reaches
 * onEndpointStateChange; its record, and the lineage, then name the endpoint.
 */
async function deploy(arn: string): Promise<void> {
  await sagemaker.send(new CreateModelCommand({ ModelName: ENDPOINT, PrimaryContainer: { ModelPackageName: arn }, ExecutionRoleArn: ROLE }));
  say(`   CreateModel ${ENDPOINT} (PrimaryContainer.ModelPackageName: the version's ARN)`);
  await sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: ENDPOINT,
      ProductionVariants: [{ VariantName: VARIANT, ModelName: ENDPOINT, InstanceType: 'ml.m5.large', InitialInstanceCount: 1, InitialVariantWeight: 1 }],
    }),
  );
  await sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: ENDPOINT }));
  const described = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: ENDPOINT }));
  say(`   CreateEndpointConfig ${ENDPOINT} (variant ${VARIANT}, 1 × ml.m5.large), CreateEndpoint → ${described.EndpointStatus ?? '?'}`);
  const record = await until(`endpoint ${ENDPOINT} recorded`, async () => {
    const r = await store.getEndpoint(ENDPOINT);
    return r?.served.some((s) => s.modelPackageArn === arn) ? r : undefined;
  });
  for (const s of record.served) say(`   recorded        ${record.name} (${record.status}) variant ${s.variant} serves ${s.modelPackageArn ?? `model ${s.model}`}`);
  const lineage = await invokeFunction(cfg.lambdaUrl, 'modelgate-local-getLineage', { modelPackageArn: arn });
  if (!lineage.ok) throw new Error(`getLineage failed: ${JSON.stringify(lineage.result)}`);
  const { endpoints } = lineage.result as LineageDocument;
  if (!endpoints.some((e) => e.endpoint === ENDPOINT && e.variant === VARIANT)) throw new Error(`getLineage does not list ${ENDPOINT}: ${JSON.stringify(endpoints)}`);
  say(`   getLineage      endpoints: ${JSON.stringify(endpoints)}`);
}

/**
 * Step 7: the revocation, then what it caused: the registry's status, the governance notice that
 * names the endpoint (from the SNS stand-in's outbox), and the operator's follow-up list.
 */
async function revoke(arn: string): Promise<void> {
  const out = await invokeFunction(cfg.lambdaUrl, 'modelgate-local-datasetImpact', {
    s3Uri: WITHDRAWN,
    revoke: true,
    reason: 'applicants withdrew consent to this use of their data (ticket DPO-4471)',
    changedBy: RESPONDER,
  });
  if (!out.ok) throw new Error(`datasetImpact failed: ${JSON.stringify(out.result)}`);
  const impact = out.result as ImpactReport;
  const revoked = impact.revocation?.revoked ?? [];
  if (!revoked.includes(arn)) throw new Error(`datasetImpact did not revoke ${arn}: ${JSON.stringify(impact.revocation)}`);
  const served = impact.modelVersions.find((v) => v.modelPackageArn === arn)?.endpoints ?? [];
  const earlier = revoked.length - 1;
  say(`   datasetImpact → revoked ${arn}${earlier ? ` (and ${earlier} from earlier runs)` : ''}; it is served by ${served.join(', ') || 'nothing'}`);
  const rejected = await until(`${arn} revoked in the registry`, async () => {
    const d = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    return d.ModelApprovalStatus === 'Rejected' ? d : undefined;
  });
  say(`   ${arn}\n     → Rejected: ${rejected.ApprovalDescription ?? ''}`);
  const subject = `Unapproved deployment: ${ENDPOINT}`;
  const notice = await until('the governance notice naming the endpoint', async () => outbox().find((m) => m.topic.endsWith('-governance') && m.subject === subject));
  const body = notice.message.split('\n').filter((l) => l.trim() !== '');
  say(`   governance notice (SNS ${notice.topic}): "${subject}"`);
  for (const line of body.slice(0, 2)) say(`     ${line.trim()}`);
  const listed = await invokeFunction(cfg.lambdaUrl, 'modelgate-local-listUnapprovedDeployments', {});
  if (!listed.ok) throw new Error(`listUnapprovedDeployments failed: ${JSON.stringify(listed.result)}`);
  const rows = (listed.result as { deployments: UnapprovedDeploymentRow[] }).deployments;
  const ours = rows.filter((r) => r.endpoint === ENDPOINT);
  if (ours.length === 0) throw new Error(`listUnapprovedDeployments does not list ${ENDPOINT}: ${JSON.stringify(rows)}`);
  const others = rows.length - ours.length;
  say(`   listUnapprovedDeployments → ${rows.length} deployment${rows.length === 1 ? '' : 's'} to follow up${others ? ` (${others} from earlier runs)` : ''}:`);
  for (const r of ours) say(`     ${r.endpoint}/${r.variant}: ${r.group ?? '?'} v${r.version ?? '?'}, ${r.reason} (${r.action})`);
}

async function trainingJob(name: string, auc: number, datasets = DATASETS): Promise<{ name: string; artifact: string }> {
  await sagemaker.send(
    new CreateTrainingJobCommand({
      TrainingJobName: name,
      AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole-credit`,
      HyperParameters: { max_depth: auc > 0.85 ? '6' : '12', eta: '0.2', objective: 'binary:logistic', eval_metric: 'auc' },
      InputDataConfig: ['train', 'validation'].map((channel) => ({
        ChannelName: channel,
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `${datasets}/${channel}/`, S3DataDistributionType: 'FullyReplicated' } },
        ContentType: 'text/csv',
      })),
      OutputDataConfig: { S3OutputPath: ARTIFACTS },
      ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    }),
  );
  await localCall('CompleteTrainingJob', {
    TrainingJobName: name,
    FinalMetricDataList: [
      { MetricName: 'validation:auc', Value: auc },
      { MetricName: 'train:auc', Value: Math.round(Math.min(0.999, auc + 0.03) * 1000) / 1000 },
    ],
  });
  await until(`training job ${name} recorded`, () => store.getTrainingJob(name));
  say(`   ${name}: Completed, validation:auc ${auc} (recorded with its lineage)`);
  return { name, artifact: `${ARTIFACTS}/${name}/output/model.tar.gz` };
}

async function register(job: { name: string; artifact: string }, description: string): Promise<string> {
  const out = await sagemaker.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: GROUP,
      ModelPackageDescription: description,
      InferenceSpecification: {
        Containers: [{ Image: IMAGE, ImageDigest: 'sha256:8c1a2f5e0b7d4c3a9e6f1d2b5a8c7e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d', ModelDataUrl: job.artifact }],
        SupportedContentTypes: ['text/csv'],
        SupportedResponseMIMETypes: ['text/csv'],
      },
      CustomerMetadataProperties: { intended_use: 'retail credit default scoring' },
      ModelApprovalStatus: 'PendingManualApproval',
    }),
  );
  if (!out.ModelPackageArn) throw new Error('CreateModelPackage returned no ARN');
  say(`   ${out.ModelPackageArn} registered (${description})`);
  return out.ModelPackageArn;
}

/** The stand-in's seeding operations (outside SageMaker's API: a job cannot be finished through it). */
async function localCall(op: string, body: unknown): Promise<void> {
  const res = await fetch(cfg.awsEnv.AWS_ENDPOINT_URL_SAGEMAKER, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `ModelgateLocal.${op}` },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${op} failed: ${res.status} ${await res.text()}`);
}

/** The SNS stand-in's outbox: the messages published since this demo started, oldest first. */
function outbox(): OutboxMessage[] {
  const dir = join(cfg.dir, 'outbox');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as OutboxMessage)
    .filter((m) => !m.at || Date.parse(m.at) >= startedAt - 1000);
}

/** Review links for one version, from the SNS stand-in's outbox (what reviewers would receive). */
function reviewLinks(arn: string): Array<{ reviewer: string; url: string }> {
  return outbox().flatMap((m) => {
    if (m.attributes.event !== 'review-requested' || !m.message.includes(`Model package: ${arn}\n`)) return [];
    const url = /Review: (\S+)/.exec(m.message)?.[1];
    return url ? [{ reviewer: m.attributes.reviewer ?? '', url }] : [];
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
