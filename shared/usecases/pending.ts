import * as z from '../schemas/zod.js';
import { parsePayload } from '../domain/payload.js';
import type { Deps, Page } from '../ports.js';

const RequestSchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  limit: z._default(z.int().check(z.gte(1), z.lte(100)), 25),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
}));

export interface PendingReview {
  modelPackageArn: string;
  group: string;
  version: number;
  reviewId: string;
  /** A lifecycle stage promotion's review: the stage it decides. */
  stage?: string;
  openedAt: string;
  expiresAt: string;
  approvals: number;
  requiredApprovals: number;
  waitingFor: string[];
}

/** Operator: open reviews across all groups, oldest first, a page at a time (one Query). */
export async function listPendingReviews(deps: Pick<Deps, 'store'>, payload: unknown): Promise<Page<PendingReview>> {
  const req = parsePayload(RequestSchema, payload ?? {}, 'listPendingReviews request');
  const page = await deps.store.listOpenReviews({ limit: req.limit, ...(req.cursor ? { cursor: req.cursor } : {}) });
  return {
    items: page.items.map((r) => ({
      modelPackageArn: r.modelPackageArn,
      group: r.group,
      version: r.version,
      reviewId: r.id,
      ...(r.stage !== undefined ? { stage: r.stage } : {}),
      openedAt: r.openedAt,
      expiresAt: r.expiresAt,
      approvals: Object.values(r.votes ?? {}).filter((v) => v.decision === 'approve').length,
      requiredApprovals: r.requiredApprovals,
      waitingFor: r.reviewers.filter((x) => !r.votes?.[x]),
    })),
    ...(page.cursor ? { cursor: page.cursor } : {}),
  };
}
