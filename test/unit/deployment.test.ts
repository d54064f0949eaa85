import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { deploymentVerdict, endpointStatus, isServing, parseDeploymentKey, deploymentKey, planEndpoint, type EndpointObservation, type EndpointRecord } from '../../shared/domain/deployment.js';
import type { ModelVersion } from '../../shared/domain/version.js';
import { EndpointStateChangeSchema } from '../../shared/schemas/events.js';

const ARN = (v: number) => `arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/${v}`;
const version = (v: number, over: Partial<ModelVersion> = {}): ModelVersion => ({
  arn: ARN(v),
  group: 'fraud-detector',
  version: v,
  status: 'PendingManualApproval',
  lastModified: 1,
  createdAt: 1,
  customerMetadata: {},
  pendingEffects: {},
  ...over,
});
const approved = (v: number) => version(v, { status: 'Approved', decision: { id: 'd', outcome: 'Approved', at: '2026-11-27T12:00:00.000Z', approvers: ['a@x.example'], policyVersion: 1 } });
const served = (v: number, variant = 'AllTraffic') => ({ variant, model: `m${v}`, modelPackageArn: ARN(v), group: 'fraud-detector', version: v });
const observed = (over: Partial<EndpointObservation> = {}): EndpointObservation => ({
  name: 'fraud-prod',
  arn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/fraud-prod',
  status: 'InService',
  configName: 'c1',
  lastModified: 100,
  served: [served(1)],
  ...over,
});

describe('endpoint statuses', () => {
  it("reads the event's IN_SERVICE and DescribeEndpoint's InService as one status, and every documented one both ways", () => {
    expect(endpointStatus('IN_SERVICE')).toBe('InService');
    expect(endpointStatus('InService')).toBe('InService');
    expect(endpointStatus('DELETING')).toBe('Deleting');
    expect(endpointStatus('UPDATE_ROLLBACK_FAILED')).toBe('UpdateRollbackFailed');
    expect(endpointStatus('ON_FIRE')).toBeUndefined();
    expect(endpointStatus('')).toBeUndefined();
  });

  it('property: a status spelled in upper snake case or as DescribeEndpoint spells it reads as itself; any other string that folds to none reads as undefined', () => {
    const statuses = ['OutOfService', 'Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'InService', 'Deleting', 'Failed', 'UpdateRollbackFailed'] as const;
    const snake = (s: string) => s.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
    fc.assert(fc.property(fc.constantFrom(...statuses), (s) => endpointStatus(s) === s && endpointStatus(snake(s)) === s));
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const folded = raw.replaceAll('_', '').toLowerCase();
        const known = [...statuses, 'Deleted'].some((s) => s.toLowerCase() === folded);
        return known ? endpointStatus(raw) !== undefined : endpointStatus(raw) === undefined;
      }),
    );
  });

  it('serving: in service and while updating or rolling back; not while creating, failed, deleting or deleted', () => {
    expect(['InService', 'Updating', 'SystemUpdating', 'RollingBack', 'UpdateRollbackFailed'].every((s) => isServing(s as never))).toBe(true);
    expect(['Creating', 'Failed', 'OutOfService', 'Deleting', 'Deleted'].some((s) => isServing(s as never))).toBe(false);
  });

  it("the AWS documentation's sample endpoint event parses", () => {
    const raw = JSON.parse(readFileSync(join(process.cwd(), 'test/fixtures/aws-doc-endpoint-state-change.json'), 'utf8')) as unknown;
    const d = EndpointStateChangeSchema.parse(raw).detail;
    expect(d).toMatchObject({ EndpointName: 'MyEndpoint', EndpointStatus: 'IN_SERVICE', LastModifiedTime: 1592411994287, CreationTime: 1592411992203 });
  });
});

describe('deploymentVerdict', () => {
  it.each<[string, Parameters<typeof deploymentVerdict>[1], string]>([
    ['approved by modelgate', approved(1), 'approved'],
    ['no record', undefined, 'unknown-version'],
    ['never gated', version(1), 'never-gated'],
    ['awaiting its job', version(1, { gateState: 'awaiting-job' }), 'awaiting-job'],
    ['in review', version(1, { gateState: 'passed' }), 'in-review'],
    ['failed its gate', version(1, { gateState: 'failed' }), 'rejected'],
    ['rejected by its reviewers', version(1, { gateState: 'passed', decision: { id: 'd', outcome: 'Rejected', at: 'x', approvers: [], rejectedBy: 'r@x.example', policyVersion: 1 } }), 'rejected'],
    ['revoked', version(1, { status: 'Approved', decision: { id: 'd', outcome: 'Rejected', at: 'x', approvers: [], rejectedBy: 'ops', policyVersion: 1, revokedFor: 's3://d/' } }), 'revoked'],
    ['approved outside modelgate', version(1, { status: 'Approved' }), 'unexplained-approval'],
    ['approved, then rejected in the registry', { ...approved(1), status: 'Rejected' }, 'not-approved'],
  ])('%s → %s', (_what, v, expected) => {
    const verdict = deploymentVerdict(served(1), v);
    expect(verdict.approved ? 'approved' : verdict.reason).toBe(expected);
  });

  it('a model of no model package, and a package ARN that is not a version', () => {
    expect(deploymentVerdict({}, undefined)).toMatchObject({ approved: false, reason: 'not-from-registry' });
    expect(deploymentVerdict({ modelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/unversioned' }, undefined)).toMatchObject({ approved: false, reason: 'unknown-version' });
  });
});

describe('planEndpoint', () => {
  const versions = new Map([
    [ARN(1).toLowerCase(), approved(1)],
    [ARN(2).toLowerCase(), version(2, { gateState: 'failed' })],
  ]);
  const plan = (current: EndpointRecord | undefined, o: EndpointObservation) => planEndpoint({ current, observed: o, versions, now: 0 });
  const record = (o: EndpointObservation): EndpointRecord => ({ ...o, pendingEffects: {} });

  it('a first observation serves its versions and tells only the unapproved ones', () => {
    const p = plan(undefined, observed({ served: [served(1, 'A'), served(2, 'B')] }));
    expect(p.serve).toEqual([
      { group: 'fraud-detector', version: 1, key: 'fraud-prod/A' },
      { group: 'fraud-detector', version: 2, key: 'fraud-prod/B' },
    ]);
    expect(p.unserve).toEqual([]);
    expect(p.unapproved.map((u) => [u.served.variant, u.verdict.reason])).toEqual([['B', 'rejected']]);
    expect(p.notices).toHaveLength(1);
    expect(p.audit.map((a) => a.action)).toEqual(['deployment.recorded']);
  });

  it('the same variants and versions again tell nothing; a swap unserves the old and tells the new', () => {
    const first = observed({ served: [served(2)] });
    expect(plan(record(first), { ...first, lastModified: 200 }).notices).toEqual([]);
    const swap = plan(record(first), observed({ lastModified: 200, served: [served(1)] }));
    expect(swap.unserve).toEqual([{ group: 'fraud-detector', version: 2, key: 'fraud-prod/AllTraffic' }]);
    expect(swap.serve).toEqual([{ group: 'fraud-detector', version: 1, key: 'fraud-prod/AllTraffic' }]);
    expect(swap.notices).toEqual([]);
    expect(swap.audit.map((a) => a.action)).toEqual(['deployment.changed']);
  });

  it('a deletion unserves every version and records when', () => {
    const p = plan(record(observed()), observed({ status: 'Deleted', served: [] }));
    expect(p.unserve).toEqual([{ group: 'fraud-detector', version: 1, key: 'fraud-prod/AllTraffic' }]);
    expect(p.record).toMatchObject({ status: 'Deleted', served: [], deletedAt: '1970-01-01T00:00:00.000Z' });
    expect(p.audit.map((a) => a.action)).toEqual(['deployment.deleted']);
  });

  it('property: deploymentKey and parseDeploymentKey round-trip SageMaker names', () => {
    const name = fc.stringMatching(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
    fc.assert(fc.property(name, name, (e, v) => {
      const parsed = parseDeploymentKey(deploymentKey(e, v));
      return parsed.endpoint === e && parsed.variant === v;
    }));
  });
});
