import * as z from '../schemas/zod.js';
import { clientToken, fitDescription } from '../domain/effects.js';
import { parsePayload } from '../domain/payload.js';
import { parseS3Uri } from '../domain/lineage.js';
import type { Decision } from '../domain/review.js';
import type { DerivedFromDataset, Deps } from '../ports.js';
import { parseDeploymentKey, unapprovedEvent, unapprovedNotice } from '../domain/deployment.js';
import { decideAndCommit, type Plan } from './gate.js';

/** An endpoint's ARN in the version's account and region (SageMaker lowercases the name in ARNs). */
function endpointArnOf(modelPackageArn: string, endpoint: string): string {
  return `${modelPackageArn.split(':').slice(0, 5).join(':')}:endpoint/${endpoint.toLowerCase()}`;
}

const RequestSchema = /* @__PURE__ */ z.schema(() => z
  .strictObject({
    /** An object's URI or a prefix (`s3://bucket/path/`): everything under it counts. */
    s3Uri: z
      .string()
      .check(z.regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must be an s3:// URI or prefix'), z.describe('an s3:// URI or prefix (s3://bucket/path/)')),
    limit: z._default(z.int().check(z.gte(1), z.lte(100)), 100),
    cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
    revoke: z._default(z.boolean(), false),
    reason: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
    changedBy: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    dryRun: z._default(z.boolean(), false),
  })
  .check(
    z.superRefine((r, ctx) => {
      if (r.revoke && !r.reason) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'a revocation needs a reason' });
      if (r.revoke && !r.changedBy) ctx.addIssue({ code: 'custom', path: ['changedBy'], message: 'a revocation needs changedBy' });
      if (r.revoke && r.cursor) ctx.addIssue({ code: 'custom', path: ['cursor'], message: 'a revocation covers every page; it takes no cursor' });
    }),
  ));

export interface ImpactReport {
  s3Uri: string;
  trainingJobs: Array<{ job: string; jobArn: string; channel: string; uri: string }>;
  modelVersions: Array<{ modelPackageArn: string; group: string; version: number; status: string; job: string; channel: string; uri: string; endpoints: string[] }>;
  /** The endpoints' variants (`<endpoint>/<variant>`) that serve a version on this page: where the data reaches production. */
  endpoints: string[];
  /** Only for a listing (no revoke): pass it back for the next page. */
  cursor?: string;
  revocation?: { dryRun: boolean; reason: string; revoked: string[]; alreadyRevoked: string[] };
}

/**
 * Operator / incident responder: every training job and model version derived from a dataset (an
 * S3 URI or prefix), with each version's approval status, a page at a time (one Query and one
 * BatchGetItem per page, whatever the table's size). With `revoke: true` and a reason, every
 * derived Approved version is set to Rejected through the normal path: recorded with a decision,
 * audited, notified, UpdateModelPackage with a ClientToken; running it again changes nothing.
 */
export async function datasetImpact(deps: Deps, payload: unknown): Promise<ImpactReport> {
  const req = parsePayload(RequestSchema, payload, 'datasetImpact request');
  const { bucket, key } = parseS3Uri(req.s3Uri);
  const report: ImpactReport = { s3Uri: req.s3Uri, trainingJobs: [], modelVersions: [], endpoints: [] };
  const add = (items: DerivedFromDataset[]) => {
    for (const i of items) {
      if (i.kind === 'trainingJob') report.trainingJobs.push({ job: i.job, jobArn: i.jobArn, channel: i.channel, uri: i.uri });
      else {
        const endpoints = i.servedBy ?? [];
        report.modelVersions.push({ modelPackageArn: i.modelPackageArn, group: i.group, version: i.version, status: i.status ?? 'unknown', job: i.job, channel: i.channel, uri: i.uri, endpoints });
        for (const e of endpoints) if (!report.endpoints.includes(e)) report.endpoints.push(e);
      }
    }
  };
  if (!req.revoke) {
    const page = await deps.store.datasetImpact({ bucket, keyPrefix: key, limit: req.limit, ...(req.cursor ? { cursor: req.cursor } : {}) });
    add(page.items);
    return { ...report, ...(page.cursor ? { cursor: page.cursor } : {}) };
  }
  let cursor: string | undefined;
  do {
    const page = await deps.store.datasetImpact({ bucket, keyPrefix: key, limit: req.limit, ...(cursor ? { cursor } : {}) });
    add(page.items);
    cursor = page.cursor;
  } while (cursor);
  // A version derived through two channels is listed twice; it is revoked once.
  const approved = [...new Map(report.modelVersions.filter((v) => v.status === 'Approved').map((v) => [v.modelPackageArn, v])).values()];
  const revocation = { dryRun: req.dryRun, reason: req.reason ?? '', revoked: [] as string[], alreadyRevoked: [] as string[] };
  for (const v of approved) {
    if (req.dryRun) {
      revocation.revoked.push(v.modelPackageArn);
      continue;
    }
    const outcome = await revokeVersion(deps, v, { dataset: req.s3Uri, reason: req.reason ?? '', actor: req.changedBy ?? '' });
    (outcome === 'revoked' ? revocation.revoked : revocation.alreadyRevoked).push(v.modelPackageArn);
  }
  return { ...report, revocation };
}

/** One revocation through the gate's commit path; a version already rejected is left as it is. */
async function revokeVersion(
  deps: Deps,
  v: { modelPackageArn: string; group: string; version: number },
  why: { dataset: string; reason: string; actor: string },
): Promise<'revoked' | 'duplicate'> {
  const outcome = await decideAndCommit(deps, { group: v.group, version: v.version }, async (ctx): Promise<Plan | 'duplicate'> => {
    const current = ctx.version;
    if (!current || current.status !== 'Approved' || current.decision?.outcome === 'Rejected') return 'duplicate';
    const { rev: _rev, ...version } = current;
    const at = new Date(deps.clock.now()).toISOString();
    const decision: Decision = {
      id: deps.newId(),
      outcome: 'Rejected',
      at,
      approvers: [],
      rejectedBy: why.actor,
      policyVersion: current.decision?.policyVersion ?? current.gate?.policyVersion ?? 0,
      revokedFor: why.dataset,
    };
    // Every endpoint that serves the version now serves a revoked one: named in the audit log and
    // in one governance notice (domain/deployment.ts), as a deployment of it would be.
    const served = (version.servedBy ?? []).map(parseDeploymentKey);
    const verdict = { approved: false as const, reason: 'revoked' as const, why: `its approval was revoked by ${why.actor} (derived from ${why.dataset})` };
    const deployed = served.map((d) => ({ served: { variant: d.variant, model: '', modelPackageArn: version.arn, group: version.group, version: version.version }, verdict, endpoint: d.endpoint }));
    const description = fitDescription(`modelgate: approval revoked (decision ${decision.id}) by ${why.actor}: derived from ${why.dataset}: ${why.reason}`);
    return {
      outcome: 'revoked',
      change: { version: { ...version, decision } },
      audit: [
        {
          action: 'version.revoked',
          subject: version.arn,
          actor: why.actor,
          detail: { decisionId: decision.id, dataset: why.dataset, reason: why.reason, previousDecision: current.decision?.id ?? null, servedBy: version.servedBy ?? [] },
        },
        ...deployed.map((d) => unapprovedEvent({ name: d.endpoint, arn: endpointArnOf(version.arn, d.endpoint) }, d.served, d.verdict)),
      ],
      effects: [
        {
          kind: 'setApprovalStatus',
          id: `revoke:${decision.id}`,
          modelPackageArn: version.arn,
          status: 'Rejected',
          description,
          clientToken: clientToken(version.arn, 'revoke', why.dataset, version.lastModified),
        },
        {
          kind: 'notify',
          id: `revoke-notice:${decision.id}`,
          topic: 'governance',
          subject: `Approval revoked: ${version.group} v${version.version}`.slice(0, 99),
          message: [
            `${why.actor} revoked the approval of ${version.arn}.`,
            `It was trained on ${why.dataset}.`,
            `Reason: ${why.reason}`,
            ...(served.length ? [`It is deployed: endpoint variants that serve it now serve an unapproved version: ${served.map((d) => `${d.endpoint} (variant ${d.variant})`).join(', ')}.`] : []),
          ].join('\n'),
          attributes: { event: 'approval-revoked', group: version.group, ...(served.length ? { deployed: 'true' } : {}) },
        },
        // And, per endpoint, the notice its deployment of an unapproved version gets.
        ...[...new Set(deployed.map((d) => d.endpoint))].map((endpoint) => ({
          ...unapprovedNotice({ name: endpoint, arn: endpointArnOf(version.arn, endpoint), lastModified: 0 }, deployed.filter((d) => d.endpoint === endpoint), 'now serves'),
          id: `revoke-deployment-notice:${decision.id}:${endpoint}`,
        })),
      ],
    };
  });
  return outcome === 'revoked' ? 'revoked' : 'duplicate';
}
