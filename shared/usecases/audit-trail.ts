import * as z from '../schemas/zod.js';
import { REVIEW_LINKS_SCOPE, TRAINING_SCOPE, groupScope, type AuditEntry } from '../domain/audit.js';
import { ValidationError } from '../domain/errors.js';
import { parsePayload, payloadProblems } from '../domain/payload.js';
import { verifyLog } from '../domain/log-verify.js';
import { fromHex, inclusionProof, nodesForInclusion, rootOf, toHex } from '../domain/merkle.js';
import { GroupNameSchema } from '../domain/policy.js';
import type { AuditLogStore, CheckpointBucket, CheckpointSigner, ExportSink, ItemKey, LogLeaf, SignedCheckpoint, StoredItem } from '../audit-log-ports.js';
import type { Clock, Deps, Page } from '../ports.js';
import { auditEntryView, checkpointView } from './views.js';

const ISO = /* @__PURE__ */ z.schema(() => z.iso.datetime({ offset: true }));
const Range = {
  from: z.optional(ISO),
  to: z.optional(ISO),
  limit: z._default(z.int().check(z.gte(1), z.lte(500)), 50),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
  /** With each entry, its inclusion proof against the latest checkpoint. */
  proofs: z._default(z.boolean(), false),
};

const TRAIL_FORMS = {
  modelPackageArn: z.strictObject({ modelPackageArn: z.string().check(z.regex(/:model-package\/[^/]+\/\d+$/, 'must be a versioned model package ARN'), z.describe('a versioned model package ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)')), ...Range }),
  modelPackageGroupName: z.strictObject({ modelPackageGroupName: GroupNameSchema, ...Range }),
  scope: z.strictObject({ scope: z.enum([TRAINING_SCOPE, REVIEW_LINKS_SCOPE]), ...Range }),
};
const TrailRequestSchema = /* @__PURE__ */ z.schema(() => z.union([TRAIL_FORMS.modelPackageArn, TRAIL_FORMS.modelPackageGroupName, TRAIL_FORMS.scope]));

const parse = <T extends z.core.$ZodType>(schema: T, payload: unknown, subject: string): z.infer<T> => parsePayload(schema, payload ?? {}, subject);

/**
 * A trail request names exactly one of its three subjects. zod's answer for the union is a bare
 * "Invalid input", so the form the payload meant is parsed on its own, and a payload that names
 * none (or two) is told what to give.
 */
function parseTrailRequest(payload: unknown): z.infer<typeof TrailRequestSchema> {
  const parsed = TrailRequestSchema.safeParse(payload ?? {});
  if (parsed.success) return parsed.data;
  const given = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? Object.keys(payload) : [];
  const meant = (Object.keys(TRAIL_FORMS) as Array<keyof typeof TRAIL_FORMS>).filter((k) => given.includes(k));
  const what = `give one of modelPackageArn, modelPackageGroupName or scope (${TRAINING_SCOPE} or ${REVIEW_LINKS_SCOPE})`;
  const problems =
    meant.length === 1 && meant[0]
      ? payloadProblems(TRAIL_FORMS[meant[0]], payload)
      : typeof payload === 'object' && payload !== null && !Array.isArray(payload)
        ? [`(root): ${what}${meant.length > 1 ? `, not ${meant.join(' and ')}` : ''}`]
        : [`(root): the payload must be a JSON object: ${what}`];
  throw new ValidationError('getAuditTrail request', problems);
}

/** RFC 9162 inclusion proof of one entry: the audit path, sibling first, in hex. */
export interface InclusionProof {
  logIndex: number;
  treeSize: number;
  path: string[];
}

export type TrailEntry = AuditEntry & {
  /** With `proofs: true`: the proof against `checkpoint`, or why there is none yet. */
  proof?: InclusionProof | { none: 'not sequenced yet' | 'not in a checkpoint yet' | 'no checkpoint yet' };
};

export type TrailPage = Page<TrailEntry> & { scope: string; subject?: string; checkpoint?: SignedCheckpoint };

/**
 * Operator and auditor: the audit trail of a version (its entries, by subject), of a group, or of
 * the training-jobs / review-links scopes, oldest first, over a time range, a page at a time (one
 * Query per page). Each entry carries its `logIndex` once sequenced; with `proofs: true` also its
 * inclusion proof against the latest signed checkpoint, which comes with the page: the caller
 * checks the checkpoint's signature with the public key and the proof with any RFC 9162 verifier.
 */
export async function getAuditTrail(deps: Pick<Deps, 'store'> & { log?: AuditLogStore }, payload: unknown): Promise<TrailPage> {
  const req = parseTrailRequest(payload);
  const { scope, subject } =
    'modelPackageArn' in req
      ? { scope: groupScope(req.modelPackageArn.split('/').at(-2) ?? ''), subject: req.modelPackageArn }
      : 'modelPackageGroupName' in req
        ? { scope: groupScope(req.modelPackageGroupName), subject: undefined }
        : { scope: req.scope, subject: undefined };
  if (req.from && req.to && req.from > req.to) throw new ValidationError('getAuditTrail request', ['from: must not be after to']);
  const page = await deps.store.auditTrail({
    scope,
    ...(subject ? { subject } : {}),
    ...(req.from ? { from: new Date(req.from).toISOString() } : {}),
    ...(req.to ? { to: new Date(req.to).toISOString() } : {}),
    limit: req.limit,
    ...(req.cursor ? { cursor: req.cursor } : {}),
  });
  if (!req.proofs) return trailView({ scope, ...(subject ? { subject } : {}), ...page });
  if (!deps.log) throw new Error('getAuditTrail with proofs needs the audit log store');
  return trailView({ scope, ...(subject ? { subject } : {}), ...page, ...(await withProofs(deps.log, page.items)) });
}

/** The keys of getAuditTrail's answer, in order (optional ones only when present). */
export const TRAIL_ORDER = ['scope', 'subject', 'items', 'checkpoint', 'cursor'] as const;

/** A page as getAuditTrail answers it (usecases/views.ts): each entry as stored, then its proof. */
function trailView(page: TrailPage): TrailPage {
  return {
    scope: page.scope,
    ...(page.subject ? { subject: page.subject } : {}),
    items: page.items.map((e) => {
      const { proof, ...entry } = e;
      const shown = auditEntryView(entry) as unknown as TrailEntry;
      if (!proof) return shown;
      return { ...shown, proof: 'none' in proof ? { none: proof.none } : { logIndex: proof.logIndex, treeSize: proof.treeSize, path: proof.path } };
    }),
    ...(page.checkpoint ? { checkpoint: checkpointView(page.checkpoint) as unknown as SignedCheckpoint } : {}),
    ...(page.cursor ? { cursor: page.cursor } : {}),
  };
}

async function withProofs(log: AuditLogStore, entries: readonly AuditEntry[]): Promise<{ items: TrailEntry[]; checkpoint?: SignedCheckpoint }> {
  const checkpoint = await log.latestCheckpoint();
  const size = checkpoint?.checkpoint.logSize ?? 0;
  const provable = entries.filter((e) => e.logIndex !== undefined && e.logIndex < size);
  // One BatchGetItem round for every node of every proof on the page (at most 2·log2(size) each).
  const refs = new Map(provable.flatMap((e) => nodesForInclusion(e.logIndex ?? 0, size)).map((r) => [`${r.level}/${r.index}`, r]));
  const nodes = refs.size ? await log.readNodes([...refs.values()]) : new Map<string, Uint8Array>();
  const items = entries.map((e): TrailEntry => {
    if (e.logIndex === undefined) return { ...e, proof: { none: 'not sequenced yet' } };
    if (!checkpoint) return { ...e, proof: { none: 'no checkpoint yet' } };
    if (e.logIndex >= size) return { ...e, proof: { none: 'not in a checkpoint yet' } };
    return { ...e, proof: { logIndex: e.logIndex, treeSize: size, path: inclusionProof(e.logIndex, size, nodes).map(toHex) } };
  });
  return { items, ...(checkpoint ? { checkpoint } : {}) };
}

const VerifyRequestSchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  /** Also every checkpoint in the bucket, each against the one before (consistency), not only the newest. */
  full: z._default(z.boolean(), false),
}));

export interface AuditWindow {
  /** Entries written but not yet in the log: the oldest one's time and age. */
  unsequenced?: { oldestAt: string; ageSeconds: number };
  /** Entries in the log but in no checkpoint yet: a table writer could still rewrite them unnoticed. */
  uncheckpointed?: { entries: number; fromIndex: number; oldestAt?: string; ageSeconds?: number };
}

export type VerifyReport =
  | {
      verified: true;
      logSize: number;
      rootHash: string;
      /** The newest checkpoint the log was checked against (absent when there is none yet: nothing is anchored). */
      checkpoint?: SignedCheckpoint & { objectKey: string };
      checkpointsChecked: number;
      window: AuditWindow;
    }
  | { verified: false; brokenAt: string; reason: string; logSize: number; window: AuditWindow };

export interface AuditVerifyDeps {
  log: AuditLogStore;
  bucket: Pick<CheckpointBucket, 'listKeys' | 'get'>;
  signer: Pick<CheckpointSigner, 'publicKey'>;
  clock: Clock;
}

/** Every leaf of the log in index order, read a page at a time. */
async function readAllLeaves(log: AuditLogStore, size: number): Promise<LogLeaf[]> {
  const leaves: LogLeaf[] = [];
  for (let from = 0; from < size; from += 1000) leaves.push(...(await log.readLeaves(from, Math.min(size, from + 1000))));
  return leaves;
}

const keyOf = (k: ItemKey): string => `${k.PK}\u0000${k.SK}`;

/**
 * Auditor: checks the table against the checkpoints in the bucket, which a table writer cannot
 * change (Object Lock, compliance mode). Every leaf is recomputed from its entry as stored; the
 * roots from those leaves must match the newest checkpoint (with `full`, every checkpoint, and
 * each must be consistent with the one before). Reports the first broken entry or checkpoint, or
 * "verified" with the log size and root, and always the window that no checkpoint covers yet.
 */
export async function verifyAuditTrail(deps: AuditVerifyDeps, payload: unknown): Promise<VerifyReport> {
  const req = parse(VerifyRequestSchema, payload, 'verifyAuditTrail request');
  const now = deps.clock.now();
  const head = await deps.log.readHead();
  const leaves = await readAllLeaves(deps.log, head.size);
  const window: AuditWindow = {};
  const unsequenced = (await deps.log.listUnsequenced({ limit: 1 })).items[0];
  if (unsequenced) window.unsequenced = { oldestAt: unsequenced.at, ageSeconds: Math.max(0, Math.round((now - Date.parse(unsequenced.at)) / 1000)) };
  const broken = (brokenAt: string, reason: string): VerifyReport => ({ verified: false, brokenAt, reason, logSize: head.size, window });

  const gap = leaves.findIndex((l, i) => l.index !== i);
  if (gap !== -1 || leaves.length !== head.size) {
    const at = gap === -1 ? leaves.length : gap;
    return broken(`entry ${at}`, `the log's leaf ${at} is missing from the table (the head says ${head.size} leaves)`);
  }
  const found = new Map((await deps.log.readEntries(leaves.map((l) => l.entry))).map((item) => [keyOf(item as unknown as ItemKey), item]));
  const missing = leaves.find((l) => !found.has(keyOf(l.entry)));
  // A missing entry stands in as an empty item, so the verifier reports it in its place in order.
  const entries: StoredItem[] = leaves.map((l) => found.get(keyOf(l.entry)) ?? {});

  const keys = await deps.bucket.listKeys();
  const names = keys.map((k) => k.split('/').at(-1) ?? k);
  const chosen = req.full ? keys : keys.slice(-1);
  const checkpoints = await Promise.all(chosen.map(async (k) => ({ name: k.split('/').at(-1) ?? k, raw: await deps.bucket.get(k) })));
  const publicKey = await deps.signer.publicKey();
  const report = verifyLog({ entries, checkpoints, publicKey, storedLeafHashes: leaves.map((l) => l.hash), now });
  if (!report.ok) {
    const at = /^entry (\d+)$/.exec(report.at);
    const leaf = at ? leaves[Number(at[1])] : undefined;
    if (leaf && missing && leaf.index === missing.index) {
      return broken(report.at, `the entry is missing from the table (the log's leaf names ${leaf.entry.PK} / ${leaf.entry.SK})`);
    }
    return broken(report.at, report.what);
  }
  // The table's record of checkpoints must agree with the bucket: a checkpoint the table knows
  // and the bucket lacks means the bucket's newest was removed or never written.
  const recorded = await deps.log.latestCheckpoint();
  const newest = checkpoints.at(-1);
  if (recorded && !names.includes(`${String(recorded.checkpoint.logSize).padStart(16, '0')}.json`)) {
    return broken(`checkpoint ${String(recorded.checkpoint.logSize).padStart(16, '0')}`, 'the table records this checkpoint, the bucket does not hold it');
  }
  // The head (the sequencer's state) must agree with the leaves, or the next append builds on a wrong edge.
  const root = toHex(rootOf(leaves.map((l) => fromHex(l.hash))));
  if (root !== head.rootHash) return broken('log head', `the head's root ${head.rootHash} is not the root of its ${head.size} leaves`);
  if (report.unanchored) {
    const first = entries[report.unanchored.fromIndex];
    window.uncheckpointed = {
      entries: report.unanchored.count,
      fromIndex: report.unanchored.fromIndex,
      ...(typeof first?.at === 'string' ? { oldestAt: first.at, ageSeconds: Math.max(0, Math.round((now - Date.parse(first.at)) / 1000)) } : {}),
    };
  }
  return {
    verified: true,
    logSize: head.size,
    rootHash: root,
    ...(newest && chosen.length ? { checkpoint: checkpointView({ ...(newest.raw as SignedCheckpoint), objectKey: chosen.at(-1) ?? '' }) as unknown as SignedCheckpoint & { objectKey: string } } : {}),
    checkpointsChecked: checkpoints.length,
    window,
  };
}

const ExportRequestSchema = /* @__PURE__ */ z.schema(() => z.strictObject({}));

export interface ExportReport {
  location: string;
  entries: number;
  checkpoints: number;
  logSize: number;
}

/**
 * Auditor: writes the log for offline verification (`npm run audit:verify -- <folder>`): every
 * sequenced entry as stored (entries.jsonl, in log order), every checkpoint object as the bucket
 * holds it, the public key (PEM) and a manifest. Nothing in it needs trusting: the verifier
 * recomputes everything, and the auditor can fetch the public key and the checkpoints from KMS and
 * the bucket directly.
 */
export async function exportAuditTrail(
  deps: AuditVerifyDeps & { sink: ExportSink; signer: Pick<CheckpointSigner, 'publicKey' | 'keyId'> },
  payload: unknown,
): Promise<ExportReport> {
  parse(ExportRequestSchema, payload, 'exportAuditTrail request');
  const head = await deps.log.readHead();
  const leaves = await readAllLeaves(deps.log, head.size);
  const lines: string[] = [];
  for (let i = 0; i < leaves.length; i += 100) {
    const chunk = leaves.slice(i, i + 100);
    const found = new Map((await deps.log.readEntries(chunk.map((l) => l.entry))).map((item) => [keyOf(item as unknown as ItemKey), item]));
    // What the table holds, as it holds it: a missing or changed entry is for the verifier to find.
    for (const l of chunk) {
      const item = found.get(keyOf(l.entry));
      if (item) lines.push(JSON.stringify(item));
    }
  }
  await deps.sink.write('entries.jsonl', lines.length ? `${lines.join('\n')}\n` : '');
  const keys = await deps.bucket.listKeys();
  for (const k of keys) await deps.sink.write(`checkpoints/${k.split('/').at(-1) ?? k}`, JSON.stringify(await deps.bucket.get(k)));
  const spki = await deps.signer.publicKey();
  await deps.sink.write('public-key.pem', pem(spki));
  await deps.sink.write(
    'manifest.json',
    JSON.stringify(
      { format: 'modelgate-audit-export/v1', exportedAt: new Date(deps.clock.now()).toISOString(), logSize: head.size, checkpoints: keys.length, keyId: await deps.signer.keyId() },
      null,
      2,
    ),
  );
  return { location: deps.sink.location, entries: lines.length, checkpoints: keys.length, logSize: head.size };
}

/** A base64 DER SubjectPublicKeyInfo as a PEM "PUBLIC KEY" block (PEM passes through). */
function pem(spki: string): string {
  if (spki.includes('-----BEGIN')) return spki.endsWith('\n') ? spki : `${spki}\n`;
  const lines = spki.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}
