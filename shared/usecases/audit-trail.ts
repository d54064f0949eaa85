import { z } from 'zod';
import { TRAINING_CHAIN, groupChain, verifyChain, type AuditEntry, type AuditHead } from '../domain/audit.js';
import { ValidationError, describeIssues } from '../domain/errors.js';
import { GroupNameSchema } from '../domain/policy.js';
import type { Deps, Page } from '../ports.js';
import { REVIEW_LINKS_CHAIN } from './review.js';

const ISO = z.iso.datetime({ offset: true });
const Range = { from: ISO.optional(), to: ISO.optional(), limit: z.number().int().min(1).max(500).default(50), cursor: z.string().min(1).max(4096).optional() };

const TrailRequestSchema = z.union([
  z.strictObject({ modelPackageArn: z.string().regex(/:model-package\/[^/]+\/\d+$/, 'must be a versioned model package ARN'), ...Range }),
  z.strictObject({ modelPackageGroupName: GroupNameSchema, ...Range }),
  z.strictObject({ chain: z.enum([TRAINING_CHAIN, REVIEW_LINKS_CHAIN]), ...Range }),
]);

function parse<T extends z.ZodType>(schema: T, payload: unknown, subject: string): z.infer<T> {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw new ValidationError(subject, describeIssues(parsed.error.issues));
  return parsed.data;
}

/**
 * Operator and auditor: the audit trail of a version (its entries in its group's chain), of a group,
 * or of the training-jobs / review-links chains, oldest first, over a time range, a page at a time.
 * One Query per page; the time range filters within the chain's order (entries are appended in
 * time order, so a page may hold fewer than `limit` entries).
 */
export async function getAuditTrail(deps: Pick<Deps, 'store'>, payload: unknown): Promise<Page<AuditEntry> & { chain: string }> {
  const req = parse(TrailRequestSchema, payload, 'getAuditTrail request');
  const { chain, subject } =
    'modelPackageArn' in req
      ? { chain: groupChain(req.modelPackageArn.split('/').at(-2) ?? ''), subject: req.modelPackageArn }
      : 'modelPackageGroupName' in req
        ? { chain: groupChain(req.modelPackageGroupName), subject: undefined }
        : { chain: req.chain, subject: undefined };
  if (req.from && req.to && req.from > req.to) throw new ValidationError('getAuditTrail request', ['from: must not be after to']);
  const page = await deps.store.auditTrail({
    chain,
    ...(subject ? { subject } : {}),
    ...(req.from ? { from: new Date(req.from).toISOString() } : {}),
    ...(req.to ? { to: new Date(req.to).toISOString() } : {}),
    limit: req.limit,
    ...(req.cursor ? { cursor: req.cursor } : {}),
  });
  return { chain, ...page };
}

const VerifyRequestSchema = z.union([
  z.strictObject({ modelPackageGroupName: GroupNameSchema }),
  z.strictObject({ chain: z.enum([TRAINING_CHAIN, REVIEW_LINKS_CHAIN]) }),
]);

export type VerifyReport =
  | { chain: string; verified: true; entries: number; head: AuditHead }
  | { chain: string; verified: false; brokenAt: number; reason: string; entries: number };

/** Auditor: recomputes a chain end to end; reports the first broken link, or "verified" and the head. */
export async function verifyAuditTrail(deps: Pick<Deps, 'store'>, payload: unknown): Promise<VerifyReport> {
  const req = parse(VerifyRequestSchema, payload, 'verifyAuditTrail request');
  const chain = 'modelPackageGroupName' in req ? groupChain(req.modelPackageGroupName) : req.chain;
  const entries = await deps.store.readAuditChain(chain);
  const verdict = verifyChain(chain, entries, await deps.store.getAuditHead(chain));
  return verdict.verified
    ? { chain, verified: true, entries: verdict.entries, head: verdict.head }
    : { chain, verified: false, brokenAt: verdict.seq, reason: verdict.reason, entries: entries.length };
}
