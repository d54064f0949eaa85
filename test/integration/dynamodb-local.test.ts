/**
 * The DynamoDB Local that jest's globalSetup started, and the table built from serverless.yml.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { assertJava, parseJavaMajor, readTableProperties, tableDefinition } from '../../scripts/dynamodb-local.js';
import { newTable, type TestTable } from '../support/dynamo.js';

describe('DynamoDB Local (started by globalSetup)', () => {
  let t: TestTable;

  beforeAll(async () => {
    t = await newTable('ddblocal');
  });

  afterAll(async () => {
    await t?.drop();
  });

  it('publishes a local endpoint to the test workers', () => {
    expect(process.env['AWS_ENDPOINT_URL_DYNAMODB']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(process.env['AWS_REGION']).toBeTruthy();
  });

  it('creates the table from serverless.yml: key schema, both GSIs, TTL on ttl', async () => {
    const { Table } = await t.client.send(new DescribeTableCommand({ TableName: t.tableName }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
    const gsis = Object.fromEntries((Table?.GlobalSecondaryIndexes ?? []).map((g) => [g.IndexName, g]));
    expect(Object.keys(gsis).sort()).toEqual(['GSI1', 'GSI2']);
    for (const n of ['1', '2']) {
      expect(gsis[`GSI${n}`]?.KeySchema).toEqual([
        { AttributeName: `GSI${n}PK`, KeyType: 'HASH' },
        { AttributeName: `GSI${n}SK`, KeyType: 'RANGE' },
      ]);
      expect(gsis[`GSI${n}`]?.Projection?.ProjectionType).toBe('ALL');
    }
    expect(Table?.BillingModeSummary?.BillingMode ?? 'PAY_PER_REQUEST').toBe('PAY_PER_REQUEST');

    const ttl = await t.client.send(new DescribeTimeToLiveCommand({ TableName: t.tableName }));
    expect(ttl.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' });
  });

  it('builds the definition from serverless.yml, not from hard-coded keys', () => {
    const props = readTableProperties();
    const def = tableDefinition('some-name');
    expect(def.TableName).toBe('some-name');
    expect(def.KeySchema).toEqual(props['KeySchema']);
    expect(def.AttributeDefinitions).toEqual(props['AttributeDefinitions']);
    expect(def.BillingMode).toBe(props['BillingMode']);
    expect(def.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(
      (props['GlobalSecondaryIndexes'] as { IndexName: string }[]).map((g) => g.IndexName),
    );
  });

  it('writes nothing when one condition of a transaction fails', async () => {
    const pk = 'MODEL#tx-test';
    await expect(
      t.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: t.tableName, Item: { PK: pk, SK: 'VERSION#1', status: 'new' } } },
            {
              ConditionCheck: {
                TableName: t.tableName,
                Key: { PK: pk, SK: 'MUST-EXIST' },
                ConditionExpression: 'attribute_exists(PK)',
              },
            },
          ],
        }),
      ),
    ).rejects.toBeInstanceOf(TransactionCanceledException);

    const after = await t.doc.send(new GetCommand({ TableName: t.tableName, Key: { PK: pk, SK: 'VERSION#1' }, ConsistentRead: true }));
    expect(after.Item).toBeUndefined();
  });

  it('finds an item on GSI1 by GSI1PK', async () => {
    const item = { PK: 'JOB#abc', SK: 'JOB', GSI1PK: 'ARTIFACT#s3://bucket/abc/output/model.tar.gz', GSI1SK: 'JOB#abc', kind: 'job' };
    await t.doc.send(new PutCommand({ TableName: t.tableName, Item: item }));
    await t.doc.send(new PutCommand({ TableName: t.tableName, Item: { ...item, PK: 'JOB#other', GSI1PK: 'ARTIFACT#elsewhere' } }));

    const { Items } = await t.doc.send(
      new QueryCommand({
        TableName: t.tableName,
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': item.GSI1PK },
      }),
    );
    expect(Items).toEqual([item]);
  });

  it('gives every newTable() its own table', async () => {
    const other = await newTable('ddblocal');
    try {
      expect(other.tableName).not.toBe(t.tableName);
      const { Item } = await other.doc.send(new GetCommand({ TableName: other.tableName, Key: { PK: 'JOB#abc', SK: 'JOB' } }));
      expect(Item).toBeUndefined();
    } finally {
      await other.drop();
    }
  });
});

describe('assertJava', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'modelgate-java-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes with the Java on this machine', () => {
    expect(() => assertJava()).not.toThrow();
  });

  it('explains how to install Java when java is not on PATH', () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    expect(() => assertJava({ ...process.env, PATH: empty })).toThrow(
      /java was not found on PATH[\s\S]*Java 17 or later[\s\S]*apt-get install openjdk-17-jre-headless[\s\S]*brew install openjdk@17/,
    );
  });

  it('rejects a Java older than 17', () => {
    const bin = mkdtempSync(join(dir, 'old-java-'));
    writeFileSync(join(bin, 'java'), '#!/bin/sh\necho \'java version "1.8.0_392"\' >&2\n');
    chmodSync(join(bin, 'java'), 0o755);
    expect(() => assertJava({ ...process.env, PATH: bin })).toThrow(/Found Java 8, which is too old[\s\S]*apt-get install openjdk-17-jre-headless/);
  });

  it('reads the major version from java -version output', () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajor('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajor('Picked up JAVA_TOOL_OPTIONS: -Xmx1g\nopenjdk version "11.0.2" 2019-01-15')).toBe(11);
    expect(parseJavaMajor('nonsense')).toBeUndefined();
  });
});
