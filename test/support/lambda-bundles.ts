/**
 * What Lambda runs, run here: package a deployable stage the way `serverless deploy` does, take
 * each function's zip apart, and run its bundle in a process of its own, the way Lambda's Node.js
 * runtime does (test/support/lambda-runtime.mjs), with the environment CloudFormation would give it.
 *
 *   const pkg = await packageStage('dev', 'bundles');       // serverless package, own folders
 *   const fns = lambdaFunctions(pkg.template);              // the template's AWS::Lambda::Function resources
 *   const entries = unzipTo(join(pkg.dir, 'getPolicy.zip'), dir);
 *   const fn = await startFunction({ taskRoot: dir, handler: 'functions/getPolicy/handler.handler', env });
 *   const answer = await fn.invoke({ modelPackageGroupName: 'fraud-detector' });
 *   fn.stop(); pkg.remove();
 *
 * The bundles carry their own AWS SDK, so aws-sdk-client-mock cannot reach them: their clients
 * are pointed at local servers with the standard AWS_ENDPOINT_URL_<SERVICE> variables.
 */
import { execFile, fork } from 'node:child_process';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';

/** A deployable stage names its organisation (serverless.yml has no default outside stage local): the demo's, here. */
export const ORGANISATION_PARAMS = ['--param=organisationName=Acme Bank model risk', '--param=organisationContact=model-risk@acme-bank.example'];

const execFileAsync = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..', '..');

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}
export interface Template {
  Resources: Record<string, CfnResource>;
}

export interface PackagedStage {
  /** The `--package` folder: one zip per function and the CloudFormation templates. */
  dir: string;
  template: Template;
  ms: number;
  remove(): void;
}

/**
 * `serverless package --stage <stage>` into a folder of its own, with an esbuild work folder of its
 * own (`package` deletes its work folder when done: a shared one would delete another command's
 * build). Offline: dummy credentials, no telemetry, no instance metadata.
 */
export async function packageStage(stage: string, label: string, params: readonly string[] = []): Promise<PackagedStage> {
  const dir = mkdtempSync(join(tmpdir(), `modelgate-${label}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_ACCESS_KEY_ID: 'AKIDPACKAGETEST',
    AWS_SECRET_ACCESS_KEY: 'package-test-secret',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    NODE_OPTIONS: '',
  };
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  const started = Date.now();
  try {
    await execFileAsync(
      'npx',
      ['serverless', 'package', '--stage', stage, '--package', dir, `--param=bundleWorkFolder=.esbuild/${label}-${process.pid}`, ...ORGANISATION_PARAMS, ...params],
      { cwd: REPO, env, timeout: 170_000, maxBuffer: 32 * 1024 * 1024 },
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`serverless package failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  return { dir, template, ms: Date.now() - started, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface LambdaFunctionSpec {
  /** The key under `functions:` in serverless.yml (and the zip's name). */
  name: string;
  logicalId: string;
  functionName: string;
  handler: string;
  timeoutSeconds: number;
  memorySize: number;
  variables: Record<string, unknown>;
}

/** The template's functions, with what Lambda would be told about each. */
export function lambdaFunctions(template: Template): LambdaFunctionSpec[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([logicalId, r]) => {
      const p = r.Properties as {
        FunctionName: string;
        Handler: string;
        Timeout?: number;
        MemorySize?: number;
        Environment?: { Variables?: Record<string, unknown> };
      };
      const name = /^functions\/([^/]+)\/handler\.handler$/.exec(p.Handler)?.[1];
      if (!name) throw new Error(`${logicalId}: unexpected handler ${p.Handler}`);
      return {
        name,
        logicalId,
        functionName: p.FunctionName,
        handler: p.Handler,
        timeoutSeconds: p.Timeout ?? 6,
        memorySize: p.MemorySize ?? 1024,
        variables: p.Environment?.Variables ?? {},
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The environment variables as CloudFormation would resolve them: each intrinsic function value
 * (`{"Ref": …}`, `{"Fn::GetAtt": …}`) must be in `resolved`, keyed by its JSON; anything else fails.
 */
export function resolveVariables(variables: Record<string, unknown>, resolved: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => {
      if (typeof value === 'string') return [name, value];
      const known = resolved[JSON.stringify(value)];
      if (known === undefined) throw new Error(`environment variable ${name}: no local value for ${JSON.stringify(value)}`);
      return [name, known];
    }),
  );
}

/** Extracts a zip (fflate) into `into`; returns its entry names. Refuses entries that leave `into`. */
export function unzipTo(zipFile: string, into: string): string[] {
  const entries = unzipSync(readFileSync(zipFile));
  for (const [name, data] of Object.entries(entries)) {
    const target = normalize(join(into, name));
    if (isAbsolute(name) || name.split('/').includes('..') || !target.startsWith(`${normalize(into)}/`)) {
      throw new Error(`${zipFile}: entry ${name} would be written outside ${into}`);
    }
    if (name.endsWith('/')) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, data);
  }
  return Object.keys(entries).sort();
}

export type Invocation = { ok: true; result: unknown } | { ok: false; error: { name: string; message: string; problems?: string[] } };

export interface RunningFunction {
  /** The module the runtime loaded (absolute path). */
  file: string;
  invoke(event: unknown): Promise<Invocation>;
  /** Everything the function wrote to stdout and stderr so far (its JSON log lines). */
  output(): string;
  stop(): Promise<void>;
}

type RuntimeMessage =
  | { ready: true; file: string }
  | { ready: false; file?: string; error: { name: string; message: string } }
  | ({ id: string } & Invocation);

/**
 * Starts one function (a cold start) in `node test/support/lambda-runtime.mjs`, with only the
 * environment given here (as on Lambda, nothing of this process's leaks in) and the unpacked zip
 * as its working directory. Resolves when the handler module is loaded.
 */
export async function startFunction(opts: {
  taskRoot: string;
  handler: string;
  functionName: string;
  memorySize: number;
  timeoutMs: number;
  env: Record<string, string>;
}): Promise<RunningFunction> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    LAMBDA_TASK_ROOT: opts.taskRoot,
    _HANDLER: opts.handler,
    AWS_LAMBDA_FUNCTION_NAME: opts.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(opts.memorySize),
    MODELGATE_TIMEOUT_MS: String(opts.timeoutMs),
    ...opts.env,
  };
  // NODE_OPTIONS would come from the function's own environment (it sets none); jest's
  // --experimental-vm-modules must not reach the child, so execArgv is empty.
  const child = fork(join(HERE, 'lambda-runtime.mjs'), [], { cwd: opts.taskRoot, env, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const pending = new Map<string, (answer: Invocation) => void>();
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));

  const file = await new Promise<string>((resolveReady, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${opts.functionName} exited (${code}) during init:\n${output}`));
    child.once('exit', onExit);
    child.once('message', (m: RuntimeMessage) => {
      child.off('exit', onExit);
      if ('ready' in m && m.ready) resolveReady(m.file);
      else reject(new Error(`${opts.functionName} failed to init: ${'error' in m ? `${m.error.name}: ${m.error.message}` : JSON.stringify(m)}\n${output}`));
    });
  });
  child.on('message', (m: RuntimeMessage) => {
    if (!('id' in m)) return;
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  child.once('exit', (code) => {
    for (const settle of pending.values()) settle({ ok: false, error: { name: 'Runtime.ExitError', message: `exited with ${code}` } });
    pending.clear();
  });

  return {
    file,
    output: () => output,
    invoke: (event) =>
      new Promise<Invocation>((settle) => {
        const id = randomUUID();
        const timer = setTimeout(() => {
          pending.delete(id);
          settle({ ok: false, error: { name: 'Sandbox.Timedout', message: `Task timed out after ${opts.timeoutMs} ms` } });
        }, opts.timeoutMs);
        pending.set(id, (answer) => {
          clearTimeout(timer);
          settle(answer);
        });
        child.send({ id, event });
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

export interface SsmStandIn {
  /** The value for AWS_ENDPOINT_URL_SSM. */
  url: string;
  /** GetParameter requests, in order: the name and whether decryption was asked for. */
  requests: Array<{ target: string; name?: string; withDecryption?: boolean }>;
  close(): Promise<void>;
}

/**
 * Just enough of SSM Parameter Store for the signing keys: `GetParameter` (AWS JSON 1.1 protocol,
 * as `@aws-sdk/client-ssm` sends it) over a fixed set of SecureStrings; any other name answers
 * `ParameterNotFound`, any other operation `UnknownOperationException`.
 */
export async function startSsmStandIn(parameters: Record<string, string>): Promise<SsmStandIn> {
  const requests: SsmStandIn['requests'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = (body ? JSON.parse(body) : {}) as { Name?: string; WithDecryption?: boolean };
      requests.push({ target, ...(input.Name !== undefined ? { name: input.Name } : {}), ...(input.WithDecryption !== undefined ? { withDecryption: input.WithDecryption } : {}) });
      const answer = (status: number, payload: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(payload));
      };
      if (target !== 'AmazonSSM.GetParameter') return answer(400, { __type: 'UnknownOperationException', message: `${target} is not supported here` });
      const value = input.Name === undefined ? undefined : parameters[input.Name];
      if (value === undefined) return answer(400, { __type: 'ParameterNotFound', message: 'Parameter not found.' });
      answer(200, {
        Parameter: {
          Name: input.Name,
          Type: 'SecureString',
          Value: value,
          Version: 1,
          DataType: 'text',
          LastModifiedDate: Date.now() / 1000,
          ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${input.Name}`,
        },
      });
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', () => resolveListen()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}

export interface KmsStandIn {
  /** The value for AWS_ENDPOINT_URL_KMS. */
  url: string;
  keyArn: string;
  /** The key's public key, DER SubjectPublicKeyInfo in base64 (as GetPublicKey answers). */
  publicKey: string;
  /** The operations asked for, in order (X-Amz-Target without the service prefix). */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Just enough of AWS KMS for the checkpoint key (AWS JSON 1.1, as `@aws-sdk/client-kms` sends
 * it): one ECC_NIST_P256 SIGN_VERIFY key; `GetPublicKey`, and `Sign` with ECDSA_SHA_256 over a
 * RAW message (KMS hashes it with SHA-256). Blobs travel as base64 in the JSON, and
 * the signature is DER, as KMS returns it. Anything else answers `UnsupportedOperationException`.
 */
export async function startKmsStandIn(keyArn: string): Promise<KmsStandIn> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const requests: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').replace(/^TrentService\./, '');
      requests.push(target);
      const input = (body ? JSON.parse(body) : {}) as { KeyId?: string; Message?: string; MessageType?: string; SigningAlgorithm?: string };
      const answer = (status: number, payload: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(payload));
      };
      if (input.KeyId !== keyArn) return answer(400, { __type: 'NotFoundException', message: `Key '${String(input.KeyId)}' does not exist` });
      if (target === 'GetPublicKey') {
        return answer(200, { KeyId: keyArn, PublicKey: spki, KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'] });
      }
      if (target === 'Sign') {
        if (input.SigningAlgorithm !== 'ECDSA_SHA_256') return answer(400, { __type: 'InvalidKeyUsageException', message: 'unsupported signing algorithm' });
        if (input.MessageType !== 'RAW') return answer(400, { __type: 'ValidationException', message: 'only MessageType RAW is supported here' });
        // RAW: KMS hashes the message with SHA-256 and signs the digest (ECDSA, DER-encoded).
        const signature = sign('sha256', Buffer.from(input.Message ?? '', 'base64'), { key: privateKey, dsaEncoding: 'der' });
        return answer(200, { KeyId: keyArn, Signature: signature.toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' });
      }
      answer(400, { __type: 'UnsupportedOperationException', message: `${target} is not supported here` });
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', () => resolveListen()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    keyArn,
    publicKey: spki,
    requests,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
