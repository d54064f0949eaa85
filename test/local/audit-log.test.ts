/**
 * The local stack's audit-log wiring (local/audit-log.ts): DynamoDB Local's stream delivered to
 * the sequencer through the Lambda Invoke API (a stand-in for serverless-offline's endpoint here),
 * an old table's stream turned on, and the schedules named from serverless.yml.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { jest } from '@jest/globals';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { REPO_ROOT, tableDefinition } from '../../scripts/dynamodb-local.js';
import { ensureTableStream, schedulesOf, startAuditLogWiring, type AuditLogWiring } from '../../local/audit-log.js';
import { localEndpoint, newTable, type TestTable } from '../support/dynamo.js';

const REGION = 'us-east-1';

async function until<T>(what: string, probe: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ensureTableStream', () => {
  it('turns on the NEW_IMAGE stream of a table that has none, once', async () => {
    const client = new DynamoDBClient({});
    const name = `old-table-${Date.now().toString(36)}`;
    const { StreamSpecification: _stream, ...withoutStream } = tableDefinition(name);
    await client.send(new CreateTableCommand(withoutStream));
    try {
      expect((await client.send(new DescribeTableCommand({ TableName: name }))).Table?.StreamSpecification).toBeUndefined();
      expect(await ensureTableStream(localEndpoint(), name, REGION)).toBe(true);
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      expect(Table?.StreamSpecification).toStrictEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
      expect(Table?.LatestStreamArn).toContain(`table/${name}/stream/`);
      expect(await ensureTableStream(localEndpoint(), name, REGION)).toBe(false);
      expect((await client.send(new DescribeTableCommand({ TableName: name }))).Table?.LatestStreamArn).toBe(Table?.LatestStreamArn);
    } finally {
      await client.send(new DeleteTableCommand({ TableName: name }));
      client.destroy();
    }
  });

  it("leaves a table created from serverless.yml (stream on) as it is", async () => {
    const t = await newTable('stream-on', { stream: true });
    try {
      const before = (await t.client.send(new DescribeTableCommand({ TableName: t.tableName }))).Table?.LatestStreamArn;
      expect(before).toBeDefined();
      expect(await ensureTableStream(localEndpoint(), t.tableName, REGION)).toBe(false);
      expect((await t.client.send(new DescribeTableCommand({ TableName: t.tableName }))).Table?.LatestStreamArn).toBe(before);
    } finally {
      await t.drop();
    }
  });
});

describe('schedulesOf', () => {
  it("names serverless.yml's schedules, with checkpointSchedule resolved for the stage", () => {
    expect(schedulesOf('sequenceAuditLog', 'local')).toStrictEqual(['rate(5 minutes)']);
    expect(schedulesOf('checkpointAuditLog', 'local')).toStrictEqual(['rate(5 minutes)']);
    expect(schedulesOf('sweepReviews', 'local')).toStrictEqual(['rate(1 hour)']);
    expect(schedulesOf('review', 'local')).toStrictEqual([]);
  });

  it("takes a stage's own value of a parameter over the default", () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-schedules-'));
    try {
      const yml = readFileSync(join(REPO_ROOT, 'serverless.yml'), 'utf8').replace(/^ {2}local:\n/m, "  local:\n    checkpointSchedule: rate(1 minute)\n");
      writeFileSync(join(dir, 'serverless.yml'), yml);
      expect(schedulesOf('checkpointAuditLog', 'local', join(dir, 'serverless.yml'))).toStrictEqual(['rate(1 minute)']);
      expect(schedulesOf('checkpointAuditLog', 'dev', join(dir, 'serverless.yml'))).toStrictEqual(['rate(5 minutes)']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('startAuditLogWiring', () => {
  let table: TestTable;
  let server: Server;
  let lambdaUrl: string;
  const invocations: { functionName: string; event: DynamoDBStreamEvent }[] = [];
  /** How many of the next invocations answer with a function error. */
  let failNext = 0;
  const lines: string[] = [];
  let wiring: AuditLogWiring | undefined;
  const errorLines: string[] = [];
  let restoreErrors: (() => void) | undefined;

  beforeAll(async () => {
    table = await newTable('audit-wiring', { stream: true });
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const functionName = /\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '')?.[1] ?? '';
        invocations.push({ functionName, event: JSON.parse(body) as DynamoDBStreamEvent });
        if (failNext > 0) {
          failNext -= 1;
          res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' });
          res.end(JSON.stringify({ errorType: 'Error', errorMessage: 'sequencer down' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sequenced: 1, skipped: 0, missing: 0, logSize: invocations.length }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    lambdaUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      errorLines.push(args.map(String).join(' '));
    });
    restoreErrors = () => spy.mockRestore();
  });

  afterAll(async () => {
    await wiring?.stop();
    restoreErrors?.();
    await new Promise((r) => server.close(r));
    await table.drop();
  });

  it("delivers each new audit entry, and nothing else, to the stage's sequencer; a failed batch is delivered again and its failure printed once", async () => {
    wiring = await startAuditLogWiring({ lambdaUrl, dynamodbEndpoint: localEndpoint(), table: table.tableName, stage: 'local', region: REGION, log: (l) => lines.push(l) });
    expect(wiring.summary).toBe('stream → sequenceAuditLog (new audit entries); schedules (serverless-offline): sequenceAuditLog rate(5 minutes); checkpointAuditLog rate(5 minutes)');

    failNext = 2;
    // Not an audit entry: never delivered.
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { PK: 'GROUP#g', SK: 'POLICY#CURRENT', type: 'PolicyCurrent' } }));
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { PK: 'AUDIT#group:g', SK: 'ENTRY#2026-12-01T00:00:00.000Z#000#e1', type: 'AuditEntry', id: 'e1', action: 'policy.changed' },
      }),
    );

    const delivered = await until('the entry delivered after two failures', () => (invocations.length >= 3 ? invocations : undefined));
    // Every attempt is the same batch: the one entry's INSERT, for modelgate-local-sequenceAuditLog.
    for (const { functionName, event } of delivered) {
      expect(functionName).toBe('modelgate-local-sequenceAuditLog');
      expect(event.Records.map((r) => [r.eventName, r.dynamodb?.Keys?.SK?.S, r.dynamodb?.NewImage?.type?.S])).toStrictEqual([
        ['INSERT', 'ENTRY#2026-12-01T00:00:00.000Z#000#e1', 'AuditEntry'],
      ]);
    }
    await until('the success line', () => (lines.some((l) => l.includes('→ sequenceAuditLog: {"sequenced":1')) ? true : undefined));
    const failures = errorLines.filter((m) => m.includes('sequenceAuditLog FAILED'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('sequencer down');

    // Nothing more arrives: the failed batch is not delivered again once it passed.
    await new Promise((r) => setTimeout(r, 1500));
    expect(invocations).toHaveLength(3);
  });
});
