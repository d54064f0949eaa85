import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { AuditEntry } from '../domain/audit.js';
import { parseS3Uri, producerSummary, type ArtifactNode, type DatasetInput, type TrainingJob } from '../domain/lineage.js';
import type { PolicyVersion } from '../domain/policy.js';
import type { ReviewLink, ReviewRequest } from '../domain/review.js';
import type { ModelVersion } from '../domain/version.js';
import { isServing, type EndpointRecord } from '../domain/deployment.js';
import type { ApprovalStatus } from '../schemas/events.js';
import type {
  CommitResult,
  ContextCommit,
  EffectOwner,
  EndpointChange,
  EndpointContext,
  GovernanceStore,
  JobChange,
  JobContext,
  DerivedFromDataset,
  Page,
  Refreshed,
  ReviewContext,
  Reviewer,
  ReviewerMembershipChange,
  SweepChange,
  VersionChange,
  VersionContext,
  VoteChange,
} from '../ports.js';
import { AWAITING_JOB, GOVERNED_GROUPS, OPEN_REVIEWS, PENDING_EFFECTS, PENDING_ENDPOINT_EFFECTS, SERVING_ENDPOINTS, approvedVersionsOfGroup, fromItem, gsi, keys, openReviewsOfGroup } from './keys.js';
import { fromAttributeMap, ownKeysClient } from './attributes.js';
import { decodeCursor, encodeCursor, type CursorShape } from './cursor.js';
import { tableReads } from './table-reads.js';

type Item = Record<string, unknown>;
type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

/** Links and closed reviews stay readable for "already used" answers, then DynamoDB TTL removes them. */
const LINK_RETENTION_S = 90 * 24 * 3600;

/** The DynamoDB adapter of `GovernanceStore`. Keep this stateless: one instance per cold start. */
export function dynamoStore({ client: documentClient, table }: { client: DynamoDBDocumentClient; table: string }): GovernanceStore {
  // The document client's commands, marshalled so that every map key survives (a `__proto__` or
  // `constructor` key in customer metadata), and every write checked against DynamoDB's limits
  // before it is sent (./attributes.ts).
  const client = ownKeysClient(documentClient);
  const get = async <T>(key: Item): Promise<T | undefined> => {
    const out = await client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    return out.Item ? fromItem<T>(out.Item) : undefined;
  };

  const { batchGet, queryAll } = tableReads(client, table);

  const pick = (items: Item[], key: Item): Item | undefined =>
    items.find((i) => i.PK === key.PK && i.SK === key.SK);

  /**
   * A transaction. A failed condition is an expected outcome: someone else changed the state we
   * read. Each conditioned item asks for itself back on failure (ReturnValuesOnConditionCheckFailure
   * ALL_OLD: no read, no extra request), so the conflict names the items that failed as they now
   * are (null: not there). When some reason is not a failed condition (a transaction in flight on
   * the item), the conflict names nothing and the caller reads again.
   */
  const transactFinding = async (items: TransactItem[]): Promise<'committed' | { conflict: true; failed?: Failed[] }> => {
    let returning = true;
    try {
      try {
        await client.send(new TransactWriteCommand({ TransactItems: items.map(returningOnFailure) }));
      } catch (e) {
        if (!refusedUnreadably(e)) throw e;
        returning = false;
        // DynamoDB refused the transaction (400), but the SDK could not read the items it returned:
        // its error parser loses a map key `__proto__` (legal in customer metadata, hyperparameters
        // and tags) and then throws a TypeError. Nothing was written. The same transaction, sent
        // again without asking for the items, is a new attempt under the same conditions.
        await client.send(new TransactWriteCommand({ TransactItems: items }));
      }
      return 'committed';
    } catch (e) {
      const reasons = e instanceof TransactionCanceledException ? (e.CancellationReasons ?? []) : [];
      if (!reasons.some((r) => r.Code === 'ConditionalCheckFailed')) throw e;
      if (!returning || reasons.length !== items.length || reasons.some((r) => r.Code !== 'ConditionalCheckFailed' && (r.Code ?? 'None') !== 'None')) return { conflict: true };
      const failed = reasons.flatMap((r, i) => {
        const key = keyOfTransactItem(items[i]);
        return r.Code === 'ConditionalCheckFailed' && key ? [{ key, item: r.Item ? fromAttributeMap(r.Item) : null }] : [];
      });
      return { conflict: true, failed };
    }
  };
  const transact = async (items: TransactItem[]): Promise<CommitResult> => ((await transactFinding(items)) === 'committed' ? 'committed' : 'conflict');

  /** Optimistic concurrency on `rev`: 0 means the item must not exist yet. */
  const expectRev = (rev: number) =>
    rev === 0
      ? { ConditionExpression: 'attribute_not_exists(PK)' }
      : { ConditionExpression: 'rev = :rev', ExpressionAttributeValues: { ':rev': rev } };

  /**
   * Audit entries are new items, each Put once: no head, nothing another invocation also writes.
   * The sparse GSI2 key marks each unsequenced until the sequencer gives it its log index.
   */
  const auditItems = (entries: readonly AuditEntry[]): TransactItem[] =>
    entries.map(
      (e): TransactItem => ({
        Put: {
          TableName: table,
          Item: auditEntryItem(e),
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      }),
    );

  /** An update of the artifact node under optimistic concurrency on its `rev` (0: must not exist). */
  const artifactUpdate = (
    uri: string,
    expectedRev: number,
    change: { set?: string; add?: string; delete?: string; values: Record<string, unknown>; condition?: string },
  ): TransactItem => ({
    Update: {
      TableName: table,
      Key: keys.artifact(uri),
      UpdateExpression: [
        `SET #type = :type, uri = :uri, rev = if_not_exists(rev, :zero) + :one${change.set ? `, ${change.set}` : ''}`,
        ...(change.add ? [`ADD ${change.add}`] : []),
        ...(change.delete ? [`DELETE ${change.delete}`] : []),
      ].join(' '),
      ConditionExpression:
        expectedRev === 0 ? 'attribute_not_exists(PK)' : ['rev = :rev', change.condition].filter(Boolean).join(' AND '),
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: {
        ':type': 'Artifact',
        ':uri': uri,
        ':zero': 0,
        ':one': 1,
        ...change.values,
        ...(expectedRev === 0 ? {} : { ':rev': expectedRev }),
      },
    },
  });

  /** A job and one edge per input channel (dataset → job), conditional on the job's `rev`. */
  const jobItems = (job: TrainingJob, expectedRev: number): TransactItem[] => [
    {
      Put: {
        TableName: table,
        Item: { ...keys.job(job.name), type: 'TrainingJob', ...job, rev: expectedRev + 1 },
        ...expectRev(expectedRev),
      },
    },
    ...job.datasets.map((d): TransactItem => {
      const { bucket, key } = parseS3Uri(d.uri);
      return {
        Put: {
          TableName: table,
          Item: { ...keys.jobInput(job.name, d.channel), ...gsi.dataset(bucket, key, job.name), type: 'DatasetInput', job: job.name, jobArn: job.arn, ...d },
        },
      };
    }),
  ];

  /** A version's edge to one dataset of its job (for datasetImpact). */
  const versionInputItem = (v: { group: string; version: number; arn: string }, d: DatasetInput, job: string): TransactItem => {
    const { bucket, key } = parseS3Uri(d.uri);
    return {
      Put: {
        TableName: table,
        Item: {
          ...keys.versionInput(v.group, v.version, d.channel),
          ...gsi.datasetOfVersion(bucket, key, v.arn),
          type: 'VersionInput',
          ...d,
          job,
          modelPackageArn: v.arn,
          group: v.group,
          version: v.version,
        },
      },
    };
  };

  /** One page of a sparse index partition (open reviews, pending effects, versions awaiting their job), oldest first. */
  const sparsePage = async <T>(shape: CursorShape, limit: number, cursor?: string): Promise<Page<T>> => {
    const out = await client.send(
      new QueryCommand({
        TableName: table,
        IndexName: shape.index,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': shape.partition.name },
        ExpressionAttributeValues: { ':pk': shape.partition.value },
        Limit: limit,
        ExclusiveStartKey: decodeCursor(shape, cursor),
      }),
    );
    return pageOf<T>(shape, out.Items, out.LastEvaluatedKey);
  };

  return {
    async loadVersionContext({ group, version, artifactUri }) {
      const wanted = [keys.version(group, version), keys.policyCurrent(group), ...(artifactUri ? [keys.artifact(artifactUri)] : [])];
      const items = await batchGet(wanted);
      const v = pick(items, keys.version(group, version));
      const p = pick(items, keys.policyCurrent(group));
      const a = artifactUri ? pick(items, keys.artifact(artifactUri)) : undefined;
      const ctx: VersionContext = {};
      if (v) ctx.version = fromItem(v);
      if (p) ctx.policy = fromItem(p);
      if (a) ctx.artifact = artifactFrom(a);
      return ctx;
    },

    async commitVersionChange(change: VersionChange) {
      const { version: v } = change;
      const items: TransactItem[] = [
        {
          Put: {
            TableName: table,
            Item: versionItem(v, change.expectedRev + 1),
            ...expectRev(change.expectedRev),
          },
        },
        ...auditItems(change.audit),
      ];
      if (change.review) {
        const { review, links } = change.review;
        items.push({
          Put: {
            TableName: table,
            Item: reviewItem(review, 1),
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        });
        for (const link of links) {
          items.push({ Put: { TableName: table, Item: linkItem(link), ConditionExpression: 'attribute_not_exists(PK)' } });
        }
      }
      if (change.awaitArtifact) {
        const { uri, expectedRev } = change.awaitArtifact;
        // The job's recorder reads `waiting` and sets `producer` under the same rev check.
        items.push(artifactUpdate(uri, expectedRev, { add: 'waiting :arn', values: { ':arn': new Set([v.arn]) }, condition: 'attribute_not_exists(producer)' }));
      }
      if (change.linkArtifact) {
        // The version is derived from its job's datasets: one edge per channel, for datasetImpact.
        for (const d of change.linkArtifact.datasets) items.push(versionInputItem(v, d, change.linkArtifact.job));
        if (change.recordJob) {
          // The job confirmed through the artifact path commits with the version, or not at all.
          const { job, audit, artifactExpectedRev } = change.recordJob;
          items.push(...jobItems(job, 0), ...auditItems(audit));
          // DynamoDB allows one operation per item in a transaction: the producer and this consumer
          // go into one update of the artifact node, which must still have no producer.
          items.push(
            artifactUpdate(change.linkArtifact.uri, artifactExpectedRev, {
              set: 'producer = :producer',
              add: 'consumers :arn',
              delete: 'waiting :arn',
              values: { ':producer': producerSummary(job), ':arn': new Set([v.arn]) },
              condition: 'attribute_not_exists(producer)',
            }),
          );
        } else {
          items.push({
            Update: {
              TableName: table,
              Key: keys.artifact(change.linkArtifact.uri),
              UpdateExpression: 'ADD consumers :arn DELETE waiting :arn',
              ConditionExpression: 'attribute_exists(producer)',
              ExpressionAttributeValues: { ':arn': new Set([v.arn]) },
            },
          });
        }
      } else if (change.recordJob) {
        throw new Error('recordJob needs linkArtifact: a job is recorded with the version it links');
      }
      const artifactUri = change.linkArtifact?.uri ?? change.awaitArtifact?.uri;
      return contextCommit<VersionContext>(await transactFinding(items), {
        version: { key: keys.version(v.group, v.version), from: (i) => fromItem<ModelVersion & { rev: number }>(i) },
        ...(artifactUri ? { artifact: { key: keys.artifact(artifactUri), from: artifactFrom } } : {}),
      });
    },

    async loadJobContext({ jobName, artifactUri }) {
      const wanted = [keys.job(jobName), ...(artifactUri ? [keys.artifact(artifactUri)] : [])];
      const items = await batchGet(wanted);
      const j = pick(items, keys.job(jobName));
      const a = artifactUri ? pick(items, keys.artifact(artifactUri)) : undefined;
      const ctx: JobContext = {};
      if (j) ctx.job = fromItem(j);
      if (a) ctx.artifact = artifactFrom(a);
      return ctx;
    },

    async commitJobChange(change: JobChange) {
      const { job } = change;
      const items: TransactItem[] = [...jobItems(job, change.expectedRev), ...auditItems(change.audit)];
      if (change.artifact) {
        const { uri, expectedRev } = change.artifact;
        items.push(artifactUpdate(uri, expectedRev, { set: 'producer = :producer', values: { ':producer': producerSummary(job) } }));
      }
      for (const linked of change.linkedVersions ?? []) {
        if (linked.trainedBy) {
          // rev moves on, so a writer that read the version before this fails its condition and re-reads.
          items.push({
            Update: {
              TableName: table,
              Key: keys.version(linked.group, linked.version),
              UpdateExpression: 'SET trainedBy = :by, rev = rev + :one',
              ConditionExpression: 'rev = :rev AND attribute_not_exists(trainedBy)',
              ExpressionAttributeValues: { ':by': linked.trainedBy, ':one': 1, ':rev': linked.expectedRev },
            },
          });
        }
        for (const d of linked.datasets) items.push(versionInputItem(linked, d, job.name));
      }
      return contextCommit<JobContext>(await transactFinding(items), {
        job: { key: keys.job(job.name), from: (i) => fromItem<TrainingJob & { rev: number }>(i) },
        ...(change.artifact ? { artifact: { key: keys.artifact(change.artifact.uri), from: artifactFrom } } : {}),
      });
    },

    async claimEffects(owner, ids, now, until) {
      if (ids.length === 0) return true;
      const names: Record<string, string> = {};
      const conditions: string[] = [];
      const sets: string[] = ['rev = rev + :one'];
      ids.forEach((id, i) => {
        names[`#e${i}`] = id;
        conditions.push(`pendingEffects.#e${i}.claimedUntil < :now`);
        sets.push(`pendingEffects.#e${i}.claimedUntil = :until`);
      });
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: ownerKey(owner),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':now': now, ':until': until, ':one': 1 },
          }),
        );
        return true;
      } catch (e) {
        if (e instanceof Error && e.name === 'ConditionalCheckFailedException') return false;
        throw e;
      }
    },

    async settleEffects(owner, done, failed) {
      if (done.length === 0 && failed.length === 0) return;
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = { ':one': 1, ...(failed.length ? { ':zero': 0 } : {}) };
      const removes: string[] = [];
      const sets: string[] = ['rev = rev + :one'];
      done.forEach((id, i) => {
        names[`#d${i}`] = id;
        removes.push(`pendingEffects.#d${i}`);
      });
      failed.forEach(({ id, error }, i) => {
        names[`#f${i}`] = id;
        values[`:err${i}`] = error.slice(0, 500);
        sets.push(
          `pendingEffects.#f${i}.claimedUntil = :zero`,
          `pendingEffects.#f${i}.attempts = pendingEffects.#f${i}.attempts + :one`,
          `pendingEffects.#f${i}.lastError = :err${i}`,
        );
      });
      const update = (leaveIndex: boolean) =>
        client.send(
          new UpdateCommand({
            TableName: table,
            Key: ownerKey(owner),
            UpdateExpression: `SET ${sets.join(', ')} REMOVE ${[...removes, ...(leaveIndex ? ['GSI2PK', 'GSI2SK'] : [])].join(', ')}`.replace(/ REMOVE $/, ''),
            // Leaves the pending-effects index only when these were the last pending effects.
            ConditionExpression: leaveIndex ? 'size(pendingEffects) = :n' : 'attribute_exists(PK)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: leaveIndex ? { ...values, ':n': done.length } : values,
          }),
        );
      if (failed.length === 0) {
        try {
          await update(true);
          return;
        } catch (e) {
          if (!(e instanceof Error && e.name === 'ConditionalCheckFailedException')) throw e;
        }
      }
      await update(false);
    },

    getPolicy: (group) => get<PolicyVersion>(keys.policyCurrent(group)),

    async loadPolicyContext(group) {
      const p = await get<PolicyVersion>(keys.policyCurrent(group));
      return p ? { policy: p } : {};
    },

    async listPolicyVersions(group) {
      const items = await queryAll({
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.policyCurrent(group).PK, ':prefix': keys.policyVersionPrefix },
        ScanIndexForward: false,
      });
      return items.map((i) => fromItem<PolicyVersion>(i));
    },

    async loadReviewerContext(group, reviewer) {
      const items = await batchGet([keys.policyCurrent(group), keys.reviewer(reviewer)]);
      const p = pick(items, keys.policyCurrent(group));
      const r = pick(items, keys.reviewer(reviewer));
      return {
        ...(p ? { policy: fromItem<PolicyVersion>(p) } : {}),
        ...(r ? { reviewer: fromItem<Reviewer & { rev: number }>(r) } : {}),
      };
    },

    async commitPolicy({ policy, audit, reviewer }) {
      const group = policy.modelPackageGroupName;
      const current: TransactItem = {
        Put: {
          TableName: table,
          Item: { ...keys.policyCurrent(group), ...gsi.governedGroup(group), type: 'PolicyCurrent', ...policy },
          ...(policy.version === 1
            ? { ConditionExpression: 'attribute_not_exists(PK)' }
            : { ConditionExpression: 'version = :prev', ExpressionAttributeValues: { ':prev': policy.version - 1 } }),
        },
      };
      const versioned: TransactItem = {
        Put: {
          TableName: table,
          Item: { ...keys.policyVersion(group, policy.version), type: 'PolicyVersion', ...policy },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      };
      const extra: TransactItem[] = reviewer
        ? [
            {
              Put: {
                TableName: table,
                Item: {
                  ...keys.reviewer(reviewer.reviewer.email),
                  type: 'Reviewer',
                  ...reviewer.reviewer,
                  // DynamoDB has no empty sets: a reviewer of no group keeps an empty list.
                  groups: reviewer.reviewer.groups,
                  rev: reviewer.expectedRev + 1,
                },
                ...expectRev(reviewer.expectedRev),
              },
            },
          ]
        : [];
      return transact([current, versioned, ...extra, ...auditItems(audit)]);
    },

    async loadReviewContext({ linkId, group, version, reviewId }) {
      const wanted = [
        ...(linkId ? [keys.link(linkId)] : []),
        keys.review(group, version, reviewId),
        keys.version(group, version),
        keys.policyCurrent(group),
      ];
      const items = await batchGet(wanted);
      const l = linkId ? pick(items, keys.link(linkId)) : undefined;
      const r = pick(items, keys.review(group, version, reviewId));
      const v = pick(items, keys.version(group, version));
      const p = pick(items, keys.policyCurrent(group));
      const ctx: ReviewContext = {};
      if (l) ctx.link = fromItem(l);
      if (r) ctx.review = fromItem(r);
      if (v) ctx.version = fromItem(v);
      if (p) ctx.policy = fromItem(p);
      return ctx;
    },

    async commitVote(change: VoteChange) {
      const { link, review } = change;
      const items: TransactItem[] = [
        {
          // The link is consumed once: a second vote with it fails here, whatever the review's state.
          // A link revoked since it was read (its reviewer removed) fails here too.
          Update: {
            TableName: table,
            Key: keys.link(link.id),
            UpdateExpression: 'SET usedAt = :at, vote = :vote',
            ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(usedAt) AND attribute_not_exists(revokedAt)',
            ExpressionAttributeValues: { ':at': link.usedAt, ':vote': link.vote },
          },
        },
        {
          Put: {
            TableName: table,
            Item: reviewItem(review, change.expectedReviewRev + 1),
            ConditionExpression: 'rev = :rev',
            ExpressionAttributeValues: { ':rev': change.expectedReviewRev },
          },
        },
        ...auditItems(change.audit),
      ];
      if (change.version) {
        items.push({
          Put: { TableName: table, Item: versionItem(change.version.version, change.version.expectedRev + 1), ...expectRev(change.version.expectedRev) },
        });
      } else {
        // Separation of duties was checked against this state of the version (its trainer may
        // have been learnt since, from a late job event): a changed version re-reads and re-checks.
        items.push({
          ConditionCheck: {
            TableName: table,
            Key: keys.version(review.group, review.version),
            ConditionExpression: 'rev = :rev',
            ExpressionAttributeValues: { ':rev': change.checkedVersionRev },
          },
        });
      }
      return transact(items);
    },

    async commitSweep(change: SweepChange) {
      return transact([
        {
          Put: {
            TableName: table,
            Item: reviewItem(change.review, change.expectedReviewRev + 1),
            ConditionExpression: 'rev = :rev',
            ExpressionAttributeValues: { ':rev': change.expectedReviewRev },
          },
        },
        { Put: { TableName: table, Item: versionItem(change.version, change.expectedVersionRev + 1), ...expectRev(change.expectedVersionRev) } },
        ...auditItems(change.audit),
      ]);
    },

    async commitReviewerMembership(change: ReviewerMembershipChange) {
      const items: TransactItem[] = [
        {
          Put: {
            TableName: table,
            Item: reviewItem(change.review, change.expectedReviewRev + 1),
            ConditionExpression: 'rev = :rev',
            ExpressionAttributeValues: { ':rev': change.expectedReviewRev },
          },
        },
        ...(change.addLinks ?? []).map((link): TransactItem => ({ Put: { TableName: table, Item: linkItem(link), ConditionExpression: 'attribute_not_exists(PK)' } })),
        ...auditItems(change.audit),
      ];
      if (change.revokeLink) {
        const { id, at, by } = change.revokeLink;
        items.push({
          // Only an unused link is revoked: a vote that consumed it first wins, and this change is re-read.
          Update: {
            TableName: table,
            Key: keys.link(id),
            UpdateExpression: 'SET revokedAt = :at, revokedBy = :by',
            ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(usedAt)',
            ExpressionAttributeValues: { ':at': at, ':by': by },
          },
        });
      }
      if (change.version) {
        items.push({ Put: { TableName: table, Item: versionItem(change.version.version, change.version.expectedRev + 1), ...expectRev(change.version.expectedRev) } });
      }
      return transact(items);
    },

    async listOpenReviewsOfGroup(group) {
      const items = await queryAll({
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': openReviewsOfGroup(group) },
      });
      return items.map((i) => fromItem<ReviewRequest>(i));
    },

    appendAudit: (audit) => transact(auditItems(audit)),

    listOpenReviews: ({ limit, cursor }) => sparsePage<ReviewRequest>(pages.sparse(OPEN_REVIEWS), limit, cursor),

    async loadLineage({ group, version }) {
      const v = await get<ModelVersion>(keys.version(group, version));
      if (!v) return undefined;
      // Second round, in parallel: the job's partition, the version's reviews, its audit entries.
      const [jobItems, reviewItems, auditItems] = await Promise.all([
        v.job ? queryAll({ KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.job(v.job.name).PK } }) : Promise.resolve([]),
        queryAll({
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
          ExpressionAttributeValues: { ':pk': keys.version(group, version).PK, ':prefix': keys.reviewPrefix(version) },
        }),
        queryAll({
          IndexName: 'GSI1',
          KeyConditionExpression: 'GSI1PK = :pk',
          ExpressionAttributeValues: { ':pk': gsi.auditOfPartition(v.arn) },
        }),
      ]);
      const jobItem = jobItems.find((i) => i.SK === 'JOB');
      return {
        version: v,
        ...(jobItem ? { job: fromItem<TrainingJob>(jobItem) } : {}),
        reviews: reviewItems.map((i) => fromItem<ReviewRequest>(i)),
        // GSI1SK is `<at>#<id>`: the query's order is the entries' time order.
        audit: auditItems.map((i) => fromItem<AuditEntry>(i)),
        requests: 1 + (v.job ? 3 : 2),
        rounds: 2,
      };
    },

    async auditTrail({ scope, subject, from, to, limit, cursor }) {
      // Both sort keys begin with the entry's time, so the range is part of the key condition.
      const shape = subject ? pages.auditOfSubject(subject) : pages.auditScope(scope);
      const sk = subject ? 'GSI1SK' : 'SK';
      const prefix = subject ? '' : keys.auditEntryPrefix;
      const out = await client.send(
        new QueryCommand({
          TableName: table,
          ...(subject ? { IndexName: 'GSI1' } : {}),
          KeyConditionExpression: `${subject ? 'GSI1PK' : 'PK'} = :pk AND #sk BETWEEN :from AND :to`,
          ExpressionAttributeNames: { '#sk': sk },
          ExpressionAttributeValues: {
            ':pk': subject ? gsi.auditOfPartition(subject) : keys.auditScope(scope),
            // Key values may not be empty: '0000' sorts before every ISO time.
            ':from': `${prefix}${from ?? '0000'}`,
            // '~' sorts after every character of an id and of an ISO time.
            ':to': `${prefix}${to ?? '9999'}~`,
          },
          Limit: limit,
          ExclusiveStartKey: decodeCursor(shape, cursor),
        }),
      );
      return pageOf<AuditEntry>(shape, out.Items, out.LastEvaluatedKey);
    },

    async datasetImpact({ bucket, keyPrefix, limit, cursor }) {
      const shape = pages.dataset(bucket, keyPrefix);
      const out = await client.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'GSI1',
          // The whole bucket (`s3://bucket/`) has no key prefix: begins_with refuses an empty one.
          ...(keyPrefix
            ? {
                KeyConditionExpression: 'GSI1PK = :pk AND begins_with(GSI1SK, :prefix)',
                ExpressionAttributeValues: { ':pk': shape.partition.value, ':prefix': keyPrefix },
              }
            : { KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': shape.partition.value } }),
          Limit: limit,
          ExclusiveStartKey: decodeCursor(shape, cursor),
        }),
      );
      const edges = out.Items ?? [];
      // One BatchGetItem for the page's versions: their status now (edges do not copy it).
      const versionKeys = edges.filter((e) => e.type === 'VersionInput').map((e) => keys.version(String(e.group), Number(e.version)));
      const unique = [...new Map(versionKeys.map((k) => [`${k.PK}|${k.SK}`, k])).values()];
      const versions = unique.length ? await batchGet(unique) : [];
      const items = edges.map((e): DerivedFromDataset => {
        if (e.type === 'VersionInput') {
          const v = pick(versions, keys.version(String(e.group), Number(e.version)));
          return {
            kind: 'modelVersion',
            uri: String(e.uri),
            channel: String(e.channel),
            job: String(e.job),
            modelPackageArn: String(e.modelPackageArn),
            group: String(e.group),
            version: Number(e.version),
            ...(v
              ? {
                  status: v.status as ApprovalStatus,
                  ...(v.decision ? { decision: v.decision as ModelVersion['decision'] } : {}),
                  ...(v.servedBy instanceof Set && v.servedBy.size > 0 ? { servedBy: [...(v.servedBy as Set<string>)].sort() } : {}),
                }
              : {}),
          };
        }
        return { kind: 'trainingJob', uri: String(e.uri), channel: String(e.channel), job: String(e.job), jobArn: String(e.jobArn) };
      });
      const next = encodeCursor(shape, out.LastEvaluatedKey);
      return { items, ...(next ? { cursor: next } : {}) };
    },

    async listGovernedGroups() {
      const items = await queryAll({
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': GOVERNED_GROUPS },
      });
      return items.map((i) => String(i.modelPackageGroupName));
    },

    listVersionsWithPendingEffects: ({ limit, cursor }) => sparsePage<ModelVersion & { rev: number }>(pages.sparse(PENDING_EFFECTS), limit, cursor),

    listVersionsAwaitingJob: ({ limit, cursor }) => sparsePage<ModelVersion & { rev: number }>(pages.awaitingJob, limit, cursor),

    async newestApprovedVersion(group, options) {
      // The sparse APPROVED#<group> partition, newest version first: one item read. Only when
      // that one is the version to leave out, a second Query reads the next older one.
      const newest = async (below?: number) => {
        const out = await client.send(
          new QueryCommand({
            TableName: table,
            IndexName: 'GSI1',
            KeyConditionExpression: below === undefined ? 'GSI1PK = :pk' : 'GSI1PK = :pk AND GSI1SK < :below',
            ExpressionAttributeValues: {
              ':pk': approvedVersionsOfGroup(group),
              ...(below === undefined ? {} : { ':below': gsi.approvedVersion(group, below).GSI1SK }),
            },
            ScanIndexForward: false,
            Limit: 1,
          }),
        );
        const item = out.Items?.[0];
        return item ? fromItem<ModelVersion>(item) : undefined;
      };
      const first = await newest();
      const version = first !== undefined && first.version === options?.except ? await newest(first.version) : first;
      if (!version) return undefined;
      const job = version.job ? await get<TrainingJob & { rev: number }>(keys.job(version.job.name)) : undefined;
      if (!job) return { version };
      const { rev: _rev, ...recorded } = job;
      return { version, job: recorded };
    },

    async loadEndpointContext({ name, versions }) {
      const wanted = [keys.endpoint(name), ...versions.map((v) => keys.version(v.group, v.version))];
      const items = await batchGet(wanted);
      const e = pick(items, keys.endpoint(name));
      const ctx: EndpointContext = {
        versions: items.filter((i) => i.type === 'ModelVersion').map((i) => fromItem<ModelVersion & { rev: number }>(i)),
      };
      if (e) ctx.endpoint = fromItem<EndpointRecord & { rev: number }>(e);
      return ctx;
    },

    async commitEndpointChange(change: EndpointChange) {
      const { record } = change;
      const items: TransactItem[] = [
        { Put: { TableName: table, Item: endpointItem(record, change.expectedRev + 1), ...expectRev(change.expectedRev) } },
        ...auditItems(change.audit),
      ];
      // Each served version's `servedBy` set gains or loses this variant's key: an ADD or DELETE
      // needs no read of the version, and rev moves on, so a gate or vote that read the version
      // before this commits nothing and plans again on what it reads back (servedBy included).
      const byVersion = new Map<string, { group: string; version: number; add: string[]; remove: string[] }>();
      const entry = (v: { group: string; version: number }) => {
        const k = `${v.group.toLowerCase()}|${v.version}`;
        const known = byVersion.get(k) ?? { group: v.group, version: v.version, add: [], remove: [] };
        byVersion.set(k, known);
        return known;
      };
      for (const v of change.serve) entry(v).add.push(v.key);
      for (const v of change.unserve) entry(v).remove.push(v.key);
      for (const v of byVersion.values()) {
        const values: Record<string, unknown> = { ':one': 1 };
        const clauses = ['SET rev = rev + :one'];
        if (v.add.length) {
          values[':add'] = new Set(v.add);
          clauses.push('ADD servedBy :add');
        }
        if (v.remove.length) {
          values[':remove'] = new Set(v.remove);
          clauses.push('DELETE servedBy :remove');
        }
        items.push({
          Update: {
            TableName: table,
            Key: keys.version(v.group, v.version),
            UpdateExpression: clauses.join(' '),
            ConditionExpression: 'attribute_exists(PK)',
            ExpressionAttributeValues: values,
          },
        });
      }
      return transact(items);
    },

    async listServingEndpoints({ limit, cursor, endpointsOnly }) {
      const shape = pages.servingEndpoints;
      const out = await client.send(
        new QueryCommand({
          TableName: table,
          IndexName: shape.index,
          KeyConditionExpression: 'GSI1PK = :pk',
          ExpressionAttributeValues: { ':pk': SERVING_ENDPOINTS },
          Limit: limit,
          ExclusiveStartKey: decodeCursor(shape, cursor),
        }),
      );
      const endpoints = (out.Items ?? []).map((i) => fromItem<EndpointRecord>(i));
      // One BatchGetItem (100 keys a request) for the page's versions and their groups' policies.
      const versionKeys = endpoints.flatMap((e) => e.served.flatMap((s) => (s.group && s.version !== undefined ? [keys.version(s.group, s.version)] : [])));
      const groups = [...new Set(endpoints.flatMap((e) => e.served.flatMap((s) => (s.group ? [s.group.toLowerCase()] : []))))];
      const wanted = endpointsOnly ? [] : [...versionKeys, ...groups.map((g) => keys.policyCurrent(g))];
      const unique = new Set(wanted.map((k) => `${k.PK}|${k.SK}`)).size;
      const read = wanted.length ? await batchGet(wanted) : [];
      const next = encodeCursor(shape, out.LastEvaluatedKey);
      return {
        endpoints,
        versions: read.filter((i) => i.type === 'ModelVersion').map((i) => fromItem<ModelVersion>(i)),
        policies: read.filter((i) => i.SK === 'POLICY#CURRENT').map((i) => fromItem<PolicyVersion>(i)),
        ...(next ? { cursor: next } : {}),
        requests: 1 + Math.ceil(unique / 100),
      };
    },

    getEndpoint: (name) => get<EndpointRecord & { rev: number }>(keys.endpoint(name)),
    listEndpointsWithPendingEffects: ({ limit, cursor }) => sparsePage<EndpointRecord>(pages.pendingEndpointEffects, limit, cursor),
    async getEndpoints(names) {
      return names.length ? (await batchGet(names.map((n) => keys.endpoint(n)))).map((i) => fromItem<EndpointRecord>(i)) : [];
    },

    getTrainingJob: (name) => get<TrainingJob & { rev: number }>(keys.job(name)),
    getVersion: ({ group, version }) => get<ModelVersion & { rev: number }>(keys.version(group, version)),
    async getVersions(wanted) {
      // One consistent BatchGetItem per 100 keys (UnprocessedKeys retried by batchGet); the answer
      // comes in no particular order, so each key picks its own item.
      const keyOf = wanted.map(({ group, version }) => keys.version(group, version));
      const items = keyOf.length ? await batchGet(keyOf) : [];
      return keyOf.map((key) => {
        const item = pick(items, key);
        return item ? fromItem<ModelVersion & { rev: number }>(item) : undefined;
      });
    },
    async getArtifact(uri) {
      const out = await client.send(new GetCommand({ TableName: table, Key: keys.artifact(uri), ConsistentRead: true }));
      return out.Item ? artifactFrom(out.Item) : undefined;
    },
    getReview: ({ group, version, reviewId }) => get<ReviewRequest>(keys.review(group, version, reviewId)),
    getReviewLink: (id) => get<ReviewLink>(keys.link(id)),
  };
}

/**
 * A version as stored: in the sparse pending-effects index while it has any, in the sparse
 * awaiting-job index (GSI1) while it waits for its training job (the sweep re-gates from there),
 * and otherwise in its group's sparse Approved index (GSI1) while its observed status is Approved.
 */
function versionItem(version: ModelVersion, rev: number): Item {
  // `servedBy` is a string set, so that the deployment recorder can ADD and DELETE one key without
  // reading the version; DynamoDB has no empty set, so none is stored as no attribute.
  const { servedBy, ...v } = version;
  const pending = Object.keys(v.pendingEffects ?? {}).length > 0;
  return {
    ...keys.version(v.group, v.version),
    ...(pending ? gsi.pendingEffects(v.arn) : {}),
    ...(v.gateState === 'awaiting-job' ? gsi.awaitingJob(v.createdAt, v.arn) : {}),
    // The version in production is the group's newest Approved one (the review page compares with
    // it). Sparse: a Put without the key (any other status) takes the version out of the index.
    ...(v.status === 'Approved' && v.gateState !== 'awaiting-job' ? gsi.approvedVersion(v.group, v.version) : {}),
    type: 'ModelVersion',
    ...v,
    ...(servedBy && servedBy.length > 0 ? { servedBy: new Set(servedBy) } : {}),
    rev,
  };
}

/**
 * An endpoint as stored: in the sparse serving-endpoints index (GSI1) while it serves, and in the
 * sparse pending-notices index (GSI2) while it has notices to send (the sweep resumes them).
 */
function endpointItem(e: EndpointRecord, rev: number): Item {
  return {
    ...keys.endpoint(e.name),
    ...(isServing(e.status) ? gsi.servingEndpoint(e.name) : {}),
    ...(Object.keys(e.pendingEffects ?? {}).length > 0 ? gsi.pendingEndpointEffects(e.name) : {}),
    type: 'Endpoint',
    ...e,
    rev,
  };
}

/** The item that holds an owner's pending effects. */
const ownerKey = (owner: EffectOwner): Item => ('endpoint' in owner ? keys.endpoint(owner.endpoint) : keys.version(owner.group, owner.version));

/** A review as stored: in the sparse open-reviews indexes (all groups: GSI2; its group: GSI1) while it is open. */
function reviewItem(r: ReviewRequest, rev: number): Item {
  return {
    ...keys.review(r.group, r.version, r.id),
    ...(r.status === 'Open' ? { ...gsi.openReview(r.openedAt, r.id), ...gsi.openReviewOfGroup(r.group, r.openedAt, r.id) } : {}),
    type: 'ReviewRequest',
    ...r,
    rev,
  };
}

/** An audit entry as stored: its scope's partition, its subject's index, and unsequenced (GSI2) until the sequencer places it. */
export function auditEntryItem(e: AuditEntry): Item {
  return {
    ...keys.auditEntry(e.scope, e.at, e.position, e.id),
    ...gsi.auditOf(e.subject, e.at, e.position, e.id),
    ...gsi.unsequenced(e.at, e.position, e.id),
    type: 'AuditEntry',
    id: e.id,
    scope: e.scope,
    at: e.at,
    position: e.position,
    action: e.action,
    subject: e.subject,
    actor: e.actor,
    detail: e.detail,
  };
}

/** A review link as stored: kept for "already used" answers until DynamoDB TTL removes it. */
function linkItem(link: ReviewLink): Item {
  return { ...keys.link(link.id), type: 'ReviewLink', ...link, ttl: Math.floor(Date.parse(link.expiresAt) / 1000) + LINK_RETENTION_S };
}

function pageOf<T>(shape: CursorShape, items: Item[] | undefined, last: Record<string, unknown> | undefined): Page<T> {
  const cursor = encodeCursor(shape, last);
  return { items: (items ?? []).map((i) => fromItem<T>(i)), ...(cursor ? { cursor } : {}) };
}

/**
 * Each paged query, as its cursor must look (./cursor.ts): the index, the partition key value, the
 * sort key prefix, and, on an index, the kinds of item it holds (their table key prefixes).
 */
const pages = {
  sparse: (pk: string): CursorShape => ({
    index: 'GSI2',
    partition: { name: 'GSI2PK', value: pk },
    sort: { name: 'GSI2SK', prefix: '' },
    table: pk === OPEN_REVIEWS ? { PK: ['GROUP#'], SK: ['REVIEW#'] } : { PK: ['GROUP#'], SK: ['VERSION#'] },
  }),
  awaitingJob: {
    index: 'GSI1',
    partition: { name: 'GSI1PK', value: AWAITING_JOB },
    sort: { name: 'GSI1SK', prefix: '' },
    table: { PK: ['GROUP#'], SK: ['VERSION#'] },
  } satisfies CursorShape as CursorShape,
  auditScope: (scope: string): CursorShape => ({
    partition: { name: 'PK', value: keys.auditScope(scope) },
    sort: { name: 'SK', prefix: keys.auditEntryPrefix },
  }),
  auditOfSubject: (subject: string): CursorShape => ({
    index: 'GSI1',
    partition: { name: 'GSI1PK', value: gsi.auditOfPartition(subject) },
    sort: { name: 'GSI1SK', prefix: '' },
    table: { PK: ['AUDIT#'], SK: [keys.auditEntryPrefix] },
  }),
  pendingEndpointEffects: {
    index: 'GSI2',
    partition: { name: 'GSI2PK', value: PENDING_ENDPOINT_EFFECTS },
    sort: { name: 'GSI2SK', prefix: '' },
    table: { PK: ['ENDPOINT#'], SK: ['ENDPOINT'] },
  } satisfies CursorShape as CursorShape,
  servingEndpoints: {
    index: 'GSI1',
    partition: { name: 'GSI1PK', value: SERVING_ENDPOINTS },
    sort: { name: 'GSI1SK', prefix: '' },
    table: { PK: ['ENDPOINT#'], SK: ['ENDPOINT'] },
  } satisfies CursorShape as CursorShape,
  dataset: (bucket: string, keyPrefix: string): CursorShape => ({
    index: 'GSI1',
    partition: { name: 'GSI1PK', value: gsi.dataset(bucket, '', '').GSI1PK },
    sort: { name: 'GSI1SK', prefix: keyPrefix },
    // A training job's input edge, or a version's.
    table: { PK: ['JOB#', 'GROUP#'], SK: ['INPUT#', 'VINPUT#'] },
  }),
};

/** An item whose condition failed in a cancelled transaction, as it now is (null: not there). */
interface Failed {
  key: Item;
  item: Item | null;
}

/** Each conditioned item of a transaction asks for itself back when its condition fails. */
function returningOnFailure(t: TransactItem): TransactItem {
  if (t.Put?.ConditionExpression) return { Put: { ...t.Put, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } };
  if (t.Update?.ConditionExpression) return { Update: { ...t.Update, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } };
  if (t.Delete?.ConditionExpression) return { Delete: { ...t.Delete, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } };
  if (t.ConditionCheck) return { ConditionCheck: { ...t.ConditionCheck, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } };
  return t;
}

/** The SDK's TypeError for a 400 answer whose body it could not parse (see transactFinding). */
function refusedUnreadably(e: unknown): boolean {
  const status = (e as { $response?: { statusCode?: unknown } } | undefined)?.$response?.statusCode;
  return e instanceof TypeError && status === 400 && e.message.includes('Deserialization error');
}

function keyOfTransactItem(t: TransactItem | undefined): Item | undefined {
  const key = t?.Put?.Item ?? t?.Update?.Key ?? t?.Delete?.Key ?? t?.ConditionCheck?.Key;
  return key ? { PK: key['PK'], SK: key['SK'] } : undefined;
}

/**
 * A context's commit (ports.ts ContextCommit): on a conflict, the context's items that failed, as
 * the transaction found them. When none of the failed items is one of the context's (say only a
 * version linked to the job failed), the conflict names nothing and the context is read again.
 */
function contextCommit<C>(
  outcome: 'committed' | { conflict: true; failed?: Failed[] },
  of: { [K in keyof C]?: { key: Item; from: (item: Item) => NonNullable<C[K]> } },
): ContextCommit<C> {
  if (outcome === 'committed') return outcome;
  const current: Refreshed<C> = {};
  let found = false;
  for (const name of Object.keys(of) as Array<keyof C>) {
    const wanted = of[name];
    const hit = wanted && outcome.failed?.find((f) => f.key['PK'] === wanted.key['PK'] && f.key['SK'] === wanted.key['SK']);
    if (!wanted || !hit) continue;
    current[name] = hit.item ? wanted.from(hit.item) : null;
    found = true;
  }
  return found ? { conflict: true, current } : { conflict: true };
}

function artifactFrom(item: Item): ArtifactNode & { rev: number } {
  const a = fromItem<{ uri: string; producer?: ArtifactNode['producer']; waiting?: string[]; consumers?: string[]; rev: number }>(item);
  return {
    uri: a.uri,
    ...(a.producer ? { producer: a.producer } : {}),
    waiting: a.waiting ?? [],
    consumers: a.consumers ?? [],
    rev: a.rev,
  };
}
