/**
 * `npm run bench`, part 3: the audit log's sequencer (issue 9, acceptance "Sequencer throughput").
 *
 * 1. Throughput. SEQUENCER_ENTRIES (5,000) audit entries are written straight into a fresh
 *    DynamoDB Local table IN THE STORED SHAPE: the store's own `auditEntryItem` (the item a
 *    change's transaction Puts) marshalled by the store's own `toAttributeMap`, 25 to a
 *    BatchWriteItem (the writing is not timed). They are spread over the groups' scopes and the
 *    training-jobs scope, 1 to 3 entries per change (the domain's `auditEntries`), all older than the catch-up's
 *    cut-off. Then the catch-up path places them in the log, `sequencePending` with
 *    `olderThanMs: 0` (pages of 100 keys from the sparse index, appends of up to 30 leaves, one
 *    transaction each), timed; then one checkpoint, `makeCheckpoint` with the local key signer
 *    (the key file made before the clock starts) and the checkpoint bucket on the S3 stand-in,
 *    timed. The log is checked afterwards: every entry sequenced once, each leaf the hash of its
 *    entry, the root recomputed from the leaves equal to the signed checkpoint's.
 *
 *      sequencer: <n> entries sequenced in <s> s (<rate> entries/s), checkpoint in <ms> ms
 *
 * 2. Lag. The contention bench's replay (scripts/bench-contention.ts) at concurrency 32, on a
 *    smaller story, while local/streams.ts polls the table's stream (every 250 ms, batches of up
 *    to 100, as the sequencer's event source mapping) and delivers the new entries to the real
 *    sequencer handler (functions/sequenceAuditLog), one batch at a time (reserved concurrency
 *    1). Lag = the leaf's `sequencedAt` − the entry's `at` (the writer's clock when it planned
 *    the change, so the lag includes its own commit), over every entry the replay wrote.
 *
 *      sequencer lag at concurrency 32: p50 <ms> ms, p95 <ms> ms (<n> entries)
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { startStreamPoller } from '../local/streams.js';
import { FULL_STORY, buildStory, counted, installCounter, newCounts, runLevel, startBenchEnvironment, type StorySize } from './bench-contention.js';
import { fakeContext, loadHandlers } from './story.js';
import type { AuditEntry } from '../shared/domain/audit.js';

const SEQUENCER_ENTRIES = 5_000;
const CHECKPOINT_BUCKET = 'modelgate-local-audit';
/** About a third of the contention story: 430 events, then a tuning burst of 20. */
const LAG_STORY: StorySize = {
  ...FULL_STORY,
  jobs: 70,
  failedJobs: 7,
  registrations: 130,
  statusChanges: 110,
  repeats: 65,
  outOfOrder: 25,
  tuningJobs: 20,
  tuningWaiting: 4,
};
const SCOPES = ['group:bench-fraud', 'group:bench-churn', 'group:bench-credit', 'group:bench-ltv', 'training-jobs'];

const wall = performance.now();
const env = await startBenchEnvironment({ buckets: [CHECKPOINT_BUCKET] });
try {
  // Imported now: the modules read the environment (the logger's level) when they load.
  const { auditEntryItem } = await import('../shared/store/dynamo-store.js');
  const { toAttributeMap } = await import('../shared/store/attributes.js');
  const { auditLogStore } = await import('../shared/store/audit-log-store.js');
  const { documentClient } = await import('../shared/aws/clients.js');
  const { sequencePending } = await import('../shared/usecases/sequencer.js');
  const { makeCheckpoint } = await import('../shared/usecases/checkpoint.js');
  const { localCheckpointSigner } = await import('../shared/aws/local-checkpoint-signer.js');
  const { s3CheckpointBucket } = await import('../shared/aws/checkpoint-bucket.js');
  const { auditEntries, entryLeafHash, sequencedEntryProblems } = await import('../shared/domain/audit.js');
  const { rootOf, toHex } = await import('../shared/domain/merkle.js');

  // ------------------------------------------------------------------------------ throughput
  await env.freshTable();
  const raw = new DynamoDBClient({});
  const requests = new Map<string, number>();
  raw.middlewareStack.add(
    (next, ctx) => async (args) => {
      requests.set(ctx.commandName ?? '?', (requests.get(ctx.commandName ?? '?') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchSequencer' },
  );
  const log = auditLogStore({ client: documentClient(raw), table: env.table });
  const clock = { now: () => Date.now() };

  // Changes of the last hour, 1 to 3 entries each, made by the domain's own `auditEntries` (one id
  // and `at` per change, positions 0…), each stored as `auditEntryItem` makes it.
  const start = Date.now() - 3_600_000;
  const newId = () => randomBytes(16).toString('base64url');
  const entries: AuditEntry[] = [];
  for (let change = 0; entries.length < SEQUENCER_ENTRIES; change++) {
    const scope = SCOPES[change % SCOPES.length] ?? 'training-jobs';
    const subject = `arn:aws:sagemaker:us-east-1:123456789012:model-package/${scope.replace(/^group:/, '')}/${1 + (change % 400)}`;
    const events = ['version.recorded', 'version.gate-passed', 'review.opened'].slice(0, 1 + (change % 3)).map((action, position) => ({
      action,
      subject,
      actor: position === 0 ? 'sagemaker' : 'modelgate',
      detail: { status: 'PendingManualApproval', lastModified: start + change * 500, policyVersion: 1, results: [{ metric: 'trainingJob:validation:auc', comparison: '>=', threshold: 0.85, actual: 0.9, passed: true }] },
    }));
    entries.push(...auditEntries(scope, events, start + change * 500, newId).slice(0, SEQUENCER_ENTRIES - entries.length));
  }
  const writes: WriteRequest[][] = [];
  for (let i = 0; i < entries.length; i += 25) writes.push(entries.slice(i, i + 25).map((e) => ({ PutRequest: { Item: toAttributeMap(auditEntryItem(e) as never) } })));
  const writer = new DynamoDBClient({});
  const put = async (batch: WriteRequest[]) => {
    for (let pending = batch; pending.length > 0; ) {
      const out = await writer.send(new BatchWriteItemCommand({ RequestItems: { [env.table]: pending } }));
      pending = out.UnprocessedItems?.[env.table] ?? [];
    }
  };
  for (let i = 0; i < writes.length; i += 8) await Promise.all(writes.slice(i, i + 8).map(put));
  writer.destroy();

  const signer = localCheckpointSigner(join(env.scratch, 'checkpoint-key.pem'));
  await signer.publicKey(); // the key file is made here, before anything is timed
  const s3 = new S3Client({ forcePathStyle: true });
  const bucket = s3CheckpointBucket(s3, CHECKPOINT_BUCKET);

  requests.clear();
  const t0 = performance.now();
  const report = await sequencePending({ log, clock }, { olderThanMs: 0 });
  const sequencedMs = performance.now() - t0;
  const sequencingRequests = new Map(requests);
  const t1 = performance.now();
  const checkpoint = await makeCheckpoint({ log, signer, bucket, clock }, {});
  const checkpointMs = performance.now() - t1;

  // The log is what it should be: every entry once, each leaf its entry's hash, the signed root.
  const head = await log.readHead();
  const leaves = await log.readLeaves(0, head.size);
  const items = new Map((await log.readEntries(leaves.map((l) => l.entry))).map((i) => [`${String(i.PK)}\u0000${String(i.SK)}`, i]));
  const problems: string[] = [];
  if (report.sequenced !== entries.length) problems.push(`${report.sequenced} of ${entries.length} sequenced`);
  if (head.size !== entries.length || leaves.length !== entries.length) problems.push(`log size ${head.size}, ${leaves.length} leaves`);
  for (const leaf of leaves) {
    const item = items.get(`${leaf.entry.PK}\u0000${leaf.entry.SK}`);
    if (!item) problems.push(`leaf ${leaf.index}: no entry`);
    else if (toHex(entryLeafHash(item)) !== leaf.hash) problems.push(`leaf ${leaf.index}: not its entry's hash`);
    else problems.push(...sequencedEntryProblems(item, leaf.index).map((p) => `leaf ${leaf.index}: ${p}`));
  }
  const root = toHex(rootOf(leaves.map((l) => Buffer.from(l.hash, 'hex'))));
  if (!checkpoint.made || checkpoint.checkpoint.rootHash !== root || checkpoint.checkpoint.logSize !== entries.length) problems.push(`checkpoint ${JSON.stringify(checkpoint)} does not sign the recomputed root ${root}`);
  if ((await log.listUnsequenced({ limit: 1 })).items.length > 0) problems.push('entries left in the unsequenced index');

  console.log('\nSequencer on DynamoDB Local (entries written in the stored shape, then the catch-up path; the local key signs the checkpoint)');
  console.log(
    `sequencer: ${report.sequenced} entries sequenced in ${(sequencedMs / 1000).toFixed(1)} s (${Math.round(report.sequenced / (sequencedMs / 1000))} entries/s), checkpoint in ${Math.round(checkpointMs)} ms`,
  );
  const by = [...sequencingRequests.entries()].map(([k, v]) => `${k.replace(/Command$/, '')} ${v}`).join(', ');
  console.log(`  requests while sequencing: ${by}; log checked: ${problems.length === 0 ? 'every entry once, each leaf its entry, the checkpoint signs the recomputed root' : problems.slice(0, 5).join('; ')}`);
  raw.destroy();
  s3.destroy();

  // ------------------------------------------------------------------------------------- lag
  const story = await buildStory(env, LAG_STORY);
  const handlers = await loadHandlers();
  await installCounter();
  const { handler: sequencer } = (await import('../functions/sequenceAuditLog/handler.js')) as { handler: (e: unknown, c: unknown) => Promise<unknown> };
  let poller: ReturnType<typeof startStreamPoller> | undefined;
  let streamErrors = 0;
  // What each delivery to the sequencer took, and what it sent (to tell where the lag comes from).
  const deliveries: Array<{ records: number; ms: number }> = [];
  const sequencerCounts = newCounts();
  const deliver = async (event: { Records: unknown[] }) => {
    const t = performance.now();
    try {
      return await counted(sequencerCounts, 'sequencer', () => sequencer(event, fakeContext('sequenceAuditLog')));
    } finally {
      deliveries.push({ records: event.Records.length, ms: performance.now() - t });
    }
  };
  const level = await runLevel(env, story, handlers, 32, {
    beforeReplay: async () => {
      poller = startStreamPoller({
        endpoint: env.db().endpoint,
        table: env.table,
        onRecords: deliver,
        onError: () => streamErrors++,
      });
    },
  });
  await poller?.drain();
  await poller?.stop();

  const lagLog = auditLogStore({ client: documentClient(new DynamoDBClient({})), table: env.table });
  const lagHead = await lagLog.readHead();
  const lagLeaves = await lagLog.readLeaves(0, lagHead.size);
  const written = await lagLog.readEntries(lagLeaves.map((l) => l.entry));
  const atOf = new Map(written.map((i) => [`${String(i.PK)}\u0000${String(i.SK)}`, String(i.at)]));
  const lags = lagLeaves
    // Every entry of the level (its policies' and its replay's: the poller starts before either).
    .map((l) => Date.parse(l.sequencedAt) - Date.parse(atOf.get(`${l.entry.PK}\u0000${l.entry.SK}`) ?? ''))
    .sort((a, b) => a - b);
  const pct = (p: number) => lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))] ?? 0;
  const left = (await lagLog.listUnsequenced({ limit: 100 })).items.length;
  console.log(
    `\nSequencer lag: the contention replay at concurrency 32 (${level.invocations} invocations, ${level.failed} failed, ${(level.ms / 1000).toFixed(1)} s), the stream poller (local/streams.ts, every 250 ms) delivering to the sequencer handler`,
  );
  console.log(`sequencer lag at concurrency 32: p50 ${Math.round(pct(50))} ms, p95 ${Math.round(pct(95))} ms (${lags.length} entries)`);
  console.log(`  max ${Math.round(lags[lags.length - 1] ?? 0)} ms; log size ${lagHead.size}; entries left unsequenced: ${left}${streamErrors ? `; stream deliveries that failed (retried): ${streamErrors}` : ''}`);
  for (const [error, count] of level.errors) console.log(`  failed invocation (${count}): ${error}`);
  const ms = deliveries.map((d) => d.ms).sort((a, b) => a - b);
  const mean = (m: Map<string, number>, k: string) => ((sequencerCounts.waitMs.get(k) ?? 0) / (m.get(k) ?? 1)).toFixed(0);
  console.log(
    `  ${deliveries.length} deliveries to the sequencer, ${(deliveries.reduce((a, d) => a + d.records, 0) / Math.max(1, deliveries.length)).toFixed(1)} records each (max ${Math.max(0, ...deliveries.map((d) => d.records))}), ` +
      `each ${Math.round(ms[Math.floor(ms.length / 2)] ?? 0)} ms p50, ${Math.round(ms[ms.length - 1] ?? 0)} ms max; its requests' mean wait, ms: ` +
      [...sequencerCounts.byCommand.keys()].map((k) => `${k} ${mean(sequencerCounts.byCommand, k)} (${sequencerCounts.byCommand.get(k)})`).join(', '),
  );
  console.log(
    `  the handlers' requests' mean wait meanwhile, ms: ${[...level.counts.byCommand.keys()].map((k) => `${k} ${((level.counts.waitMs.get(k) ?? 0) / (level.counts.byCommand.get(k) ?? 1)).toFixed(0)}`).join(', ')}`,
  );
  console.log(`\nSequencer bench: ${((performance.now() - wall) / 1000).toFixed(0)} s in all`);
} finally {
  await env.stop();
}
process.exit(0);
