/**
 * The DynamoDB Local that jest's globalSetup started, and the table built from serverless.yml.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { jest } from '@jest/globals';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import {
  assertJava,
  javaCommand,
  javaHasCompiler,
  LAUNCHER_CACHE_ROOT,
  parseJavaMajor,
  REPO_ROOT,
  readTableProperties,
  startDynamoDbLocal,
  tableDefinition,
  type DynamoDbLocalHandle,
} from '../../scripts/dynamodb-local.js';
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
      /java was not found on PATH[\s\S]*Java 17 or later[\s\S]*apt-get install openjdk-17-jdk-headless[\s\S]*brew install openjdk@17/,
    );
  });

  it('rejects a Java older than 17', () => {
    const bin = mkdtempSync(join(dir, 'old-java-'));
    writeFileSync(join(bin, 'java'), '#!/bin/sh\necho \'java version "1.8.0_392"\' >&2\n');
    chmodSync(join(bin, 'java'), 0o755);
    expect(() => assertJava({ ...process.env, PATH: bin })).toThrow(/Found Java 8, which is too old[\s\S]*apt-get install openjdk-17-jdk-headless/);
  });

  it('reads the major version from java -version output', () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajor('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajor('Picked up JAVA_TOOL_OPTIONS: -Xmx1g\nopenjdk version "11.0.2" 2019-01-15')).toBe(11);
    expect(parseJavaMajor('nonsense')).toBeUndefined();
  });
});

/** The local addresses (hex, as the kernel writes them) of the sockets listening on `port`. */
function listeningAddresses(port: number): { tcp: string[]; tcp6: string[] } {
  const read = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && f[1] !== undefined && parseInt(f[1].split(':')[1] ?? '', 16) === port)
      .map((f) => (f[1] ?? '').split(':')[0] ?? '');
  return { tcp: read('/proc/net/tcp'), tcp6: existsSync('/proc/net/tcp6') ? read('/proc/net/tcp6') : [] };
}

/** 'refused', 'connected' or another error code, for a TCP connect to host:port. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((done) => {
    const socket = connect({ host, port, timeout: 5_000 });
    socket.once('connect', () => {
      socket.destroy();
      done('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      done('timeout');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : String(e.code)));
  });
}

async function listTables(endpoint: string) {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    return await client.send(new ListTablesCommand({}));
  } finally {
    client.destroy();
  }
}

// /proc/net/tcp is Linux's; elsewhere these tests have nothing to read.
const onLinux = existsSync('/proc/net/tcp');

(onLinux ? describe : describe.skip)('DynamoDB Local started by startDynamoDbLocal listens on 127.0.0.1 only', () => {
  let db: DynamoDbLocalHandle | undefined;

  beforeAll(async () => {
    db = await startDynamoDbLocal({});
  });

  afterAll(async () => {
    await db?.stop();
  });

  it('has one listening socket on its port, bound to 127.0.0.1 (none on 0.0.0.0 or ::)', () => {
    const port = db?.port ?? -1;
    const { tcp, tcp6 } = listeningAddresses(port);
    expect({ tcp, tcp6 }).toEqual({ tcp: ['0100007F'], tcp6: [] });
  });

  it('runs the launcher compiled into .local/java, not through the source launcher', () => {
    const argv = readFileSync(`/proc/${db?.pid ?? -1}/cmdline`, 'utf8').split('\0');
    const classPath = (argv[argv.indexOf('-cp') + 1] ?? '').split(delimiter);
    expect(dirname(classPath[0] ?? '')).toBe(LAUNCHER_CACHE_ROOT);
    expect(basename(classPath[0] ?? '')).toMatch(/^loopback-[0-9a-f]{16}$/);
    expect(existsSync(join(classPath[0] ?? '', 'LoopbackDynamoDBLocal.class'))).toBe(true);
    expect(argv[argv.indexOf('-cp') + 2]).toBe('LoopbackDynamoDBLocal');
    expect(argv.filter((a) => a.endsWith('.java'))).toEqual([]);
  });

  it('refuses a connection to a non-loopback address of this machine and answers ListTables on 127.0.0.1', async () => {
    const port = db?.port ?? -1;
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
    if (external === undefined) {
      console.warn('this machine has no non-loopback IPv4 address: only 127.0.0.1 is checked');
    } else {
      expect({ external, result: await tryConnect(external, port) }).toEqual({ external, result: 'refused' });
    }
    expect((await listTables(`http://127.0.0.1:${port}`)).TableNames).toBeDefined();
  });
});

const COMPILE = 'jdk.compiler/com.sun.tools.javac.Main';
const realJava = () => spawnSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).stdout.trim();

/**
 * A `java` that appends its arguments to `log` and then runs the real java, after `prelude`
 * (shell lines that may answer some calls themselves).
 */
function recordingJava(dir: string, log: string, prelude = ''): NodeJS.ProcessEnv {
  const bin = mkdtempSync(join(dir, 'java-'));
  writeFileSync(join(bin, 'java'), `#!/bin/sh\necho "$*" >> '${log}'\n${prelude}exec '${realJava()}' "$@"\n`);
  chmodSync(join(bin, 'java'), 0o755);
  return { ...process.env, PATH: `${bin}${delimiter}${process.env['PATH'] ?? ''}` };
}

const calls = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
const classPathOf = (args: string[]) => (args[args.indexOf('-cp') + 1] ?? '').split(delimiter);

describe('the compiled launcher (javaCommand)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'modelgate-launcher-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('compiles the launcher once, then runs the cached class without compiling it again', () => {
    const cacheRoot = join(dir, 'once');
    const log = join(dir, 'once.log');
    const env = recordingJava(dir, log);

    const first = javaCommand(8000, null, { env, cacheRoot });
    expect(first.launcher).toBe('compiled');
    expect(first.warning).toBeUndefined();
    expect(dirname(first.classDir ?? '')).toBe(cacheRoot);
    expect(basename(first.classDir ?? '')).toMatch(/^loopback-[0-9a-f]{16}$/);
    expect(existsSync(join(first.classDir ?? '', 'LoopbackDynamoDBLocal.class'))).toBe(true);
    expect(calls(log).filter((c) => c.includes(COMPILE))).toHaveLength(1);
    // java -cp <cache>:<jar>:<lib>/* LoopbackDynamoDBLocal <DynamoDB Local's arguments>
    expect(classPathOf(first.args)[0]).toBe(first.classDir);
    expect(classPathOf(first.args).slice(1)).toEqual([expect.stringMatching(/DynamoDBLocal\.jar$/), expect.stringMatching(/DynamoDBLocal_lib[/\\]\*$/)]);
    expect(first.args.slice(first.args.indexOf('-cp') + 2)).toEqual(['LoopbackDynamoDBLocal', '-inMemory', '-port', '8000', '-sharedDb']);
    expect(first.args).toEqual(expect.arrayContaining(['-Djava.net.preferIPv4Stack=true', expect.stringMatching(/^-Djava\.library\.path=/)]));

    writeFileSync(log, '');
    const second = javaCommand(8000, null, { env, cacheRoot });
    expect(second).toEqual(first);
    expect(calls(log).filter((c) => c.includes(COMPILE))).toEqual([]);
    expect(readdirSync(cacheRoot)).toEqual([basename(first.classDir ?? '')]); // no temporary folder left
  });

  it('keys the cache by java -version', () => {
    const cacheRoot = join(dir, 'versions');
    const real = javaCommand(8000, null, { env: recordingJava(dir, join(dir, 'real.log')), cacheRoot });
    const other = javaCommand(8000, null, {
      env: recordingJava(dir, join(dir, 'other.log'), `if [ "$1" = -version ]; then echo 'openjdk version "17.0.99" 2099-01-01' >&2; exit 0; fi\n`),
      cacheRoot,
    });
    expect([real.launcher, other.launcher]).toEqual(['compiled', 'compiled']);
    expect(other.classDir).not.toBe(real.classDir);
    expect(calls(join(dir, 'other.log')).filter((c) => c.includes(COMPILE))).toHaveLength(1);
  });

  it('falls back to the source launcher, with a one-line warning, when the launcher does not compile', () => {
    const env = recordingJava(dir, join(dir, 'broken.log'), `case "$*" in *${COMPILE}*) echo 'error: no compiler today' >&2; exit 2;; esac\n`);
    const cacheRoot = join(dir, 'broken');
    const command = javaCommand(8000, null, { env, cacheRoot });
    expect(command.launcher).toBe('source');
    expect(command.args.filter((a) => a.endsWith('.java'))).toEqual([join(REPO_ROOT, 'local', 'dynamodb', 'LoopbackDynamoDBLocal.java')]);
    expect(classPathOf(command.args)).toHaveLength(2); // the jar and its lib only
    expect(command.warning?.text).toMatch(/^warning: could not compile local\/dynamodb\/LoopbackDynamoDBLocal\.java into .*no compiler today.*source launcher[^\n]*\n$/);
    expect(existsSync(cacheRoot) ? readdirSync(cacheRoot) : []).toEqual([]); // no temporary folder left
  });

  it('lets concurrent first starts share one compiled copy', async () => {
    const cacheRoot = join(dir, 'race');
    const script = join(dir, 'race.mts');
    const at = Date.now() + 4_000; // every process calls javaCommand at this time, with the cache empty
    writeFileSync(
      script,
      `const { javaCommand } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'scripts', 'dynamodb-local.ts')).href)});\n` +
        `await new Promise((r) => setTimeout(r, Math.max(0, ${at} - Date.now())));\n` +
        `const c = javaCommand(8000, null, { cacheRoot: ${JSON.stringify(cacheRoot)} });\n` +
        `console.log(JSON.stringify({ launcher: c.launcher, classDir: c.classDir }));\n`,
    );
    const run = () =>
      new Promise<string>((done, reject) => {
        const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [script], {
          env: { ...process.env, NODE_OPTIONS: '--no-warnings' },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.once('error', reject);
        child.once('exit', (code) => (code === 0 ? done(out.trim()) : reject(new Error(`exit ${String(code)}: ${out}`))));
      });
    const results = (await Promise.all([run(), run(), run()])).map((r) => JSON.parse(r) as { launcher: string; classDir: string });
    const classDir = results[0]?.classDir ?? '';
    expect(results).toEqual([1, 2, 3].map(() => ({ launcher: 'compiled', classDir })));
    expect(readdirSync(cacheRoot)).toEqual([basename(classDir)]);
    expect(readdirSync(classDir)).toEqual(['LoopbackDynamoDBLocal.class']);
  });
});

/** A `java` that lists no jdk.compiler module (as a JRE does) and is the real java otherwise. */
function fakeJre(dir: string): string {
  const real = realJava();
  const bin = mkdtempSync(join(dir, 'jre-'));
  writeFileSync(
    join(bin, 'java'),
    `#!/bin/sh\nif [ "$1" = --list-modules ]; then echo java.base@17.0.15; echo java.sql@17.0.15; exit 0; fi\nexec '${real}' "$@"\n`,
  );
  chmodSync(join(bin, 'java'), 0o755);
  return bin;
}

describe('a java without the compiler (a JRE)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'modelgate-jre-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('javaHasCompiler tells a JDK from a JRE by jdk.compiler in java --list-modules', () => {
    expect(javaHasCompiler()).toBe(true); // this machine runs the tests with a JDK
    expect(javaHasCompiler({ ...process.env, PATH: fakeJre(dir) })).toBe(false);
    // No java at all: "yes", so that the start fails with the install hint, not with this warning.
    expect(javaHasCompiler({ ...process.env, PATH: mkdtempSync(join(dir, 'empty-')) })).toBe(true);
  });

  (onLinux ? it : it.skip)('starts DynamoDB Local from the plain jar, on every interface, with a one-line warning', async () => {
    const path = process.env['PATH'];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let db: DynamoDbLocalHandle | undefined;
    try {
      process.env['PATH'] = `${fakeJre(dir)}${delimiter}${path ?? ''}`;
      db = await startDynamoDbLocal({});
      const warnings = stderr.mock.calls.map((c) => String(c[0])).filter((w) => w.startsWith('warning:'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^warning: DynamoDB Local listens on every interface.*needs a JDK.*jdk\.compiler[^\n]*\n$/);
      const { tcp, tcp6 } = listeningAddresses(db.port);
      expect([...tcp, ...tcp6]).toEqual(expect.arrayContaining([expect.stringMatching(/^0+$/)]));
      expect((await listTables(db.endpoint)).TableNames).toBeDefined();
    } finally {
      process.env['PATH'] = path;
      stderr.mockRestore();
      await db?.stop();
    }
  });
});
