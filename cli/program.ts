/**
 * The operator CLI, `npx modelgate <command>`: one subcommand per operator function, each invoking
 * the deployed function `modelgate-<stage>-<function>` with the Lambda API (InvokeCommand,
 * RequestResponse), or the local stack's Lambda endpoint with `--local`. So an operator's laptop
 * needs AWS credentials and this repository after `npm ci`, and no Serverless install.
 *
 * Pure: the Lambda client (through a factory, so that `--local` can point it elsewhere), the
 * environment and the output streams are injected; `runCli` returns the exit code and never exits.
 *
 * stdout carries only the result: one JSON document (2-space indentation), or with `--output table`
 * a text table. Everything else (usage errors, the function's error) goes to stderr. Exit codes:
 * 0 the function returned a result; 1 it failed (FunctionError, or Lambda refused the call);
 * 2 the command line is wrong (an unknown or missing flag, a bad value), and nothing was invoked.
 */
import { readFileSync } from 'node:fs';
import { InvokeCommand, LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { renderFields, renderTable } from './table.js';

export interface CliIo {
  /** Builds the Lambda client for the target the flags chose (the default builds a real one). */
  makeClient?: (config: LambdaClientConfig) => LambdaClient;
  env?: NodeJS.ProcessEnv;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** What every subcommand accepts besides its own flags. */
interface CommonOptions {
  stage: string;
  region?: string;
  local?: boolean;
  output: 'json' | 'table';
  data?: string;
  path?: string;
}
type Options = CommonOptions & Record<string, unknown>;

/** A wrong command line: exit 2, nothing invoked. */
class UsageError extends Error {}

/** A subcommand: the function it invokes, its flags, and how they become the payload. */
interface Spec {
  name: string;
  fn: string;
  summary: string;
  flags?: (cmd: Command) => void;
  /** The payload from the flags. `need` checks a required flag, unless --data/--path gave a payload. */
  payload?: (o: Options, need: (...flags: string[]) => void) => Record<string, unknown>;
  /** The field of the result that holds its rows, for `--output table`. */
  rows?: string;
  /** Shown after the flags in `--help` (default: the bare command). */
  examples?: string[];
}

// ---------------------------------------------------------------------------------------------
// Flag values
// ---------------------------------------------------------------------------------------------

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number of at least 1.');
  return Number(value);
}

/** Only the fields whose flag was given (a function's defaults apply to the rest). */
function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

const SAMPLE_ARN = 'arn:aws:sagemaker:us-east-1:000000000000:model-package/credit-default-demo/1';
const arnFlag = (cmd: Command, what = 'the model version') => cmd.option('--arn <modelPackageArn>', `${what}'s model package ARN (…:model-package/<group>/<version>)`);
const changedByFlags = (cmd: Command) =>
  cmd.option('--changed-by <principal>', 'who makes the change (recorded in the audit trail), e.g. your role session ARN').option('--reason <text>', 'why (recorded in the audit trail)');
const pageFlags = (cmd: Command) =>
  cmd.option('--limit <n>', 'items per page', positiveInt).option('--cursor <cursor>', 'the next page: the cursor the previous page returned');

/** `--arn`, or `--group` and `--version`: a version reference (getLineage, exportModelCard). */
function versionRef(o: Options, need: (...flags: string[]) => void): Record<string, unknown> {
  if (o.arn !== undefined && (o.group !== undefined || o.version !== undefined)) throw new UsageError('give --arn, or --group and --version, not both');
  if (o.arn !== undefined) return { modelPackageArn: o.arn };
  if (o.group === undefined && o.version === undefined) need('--arn, or --group and --version');
  need(...(o.group === undefined ? ['--group'] : []), ...(o.version === undefined ? ['--version'] : []));
  return defined({ modelPackageGroupName: o.group, version: o.version });
}

// ---------------------------------------------------------------------------------------------
// The subcommands (payload fields as in each function's zod schema, shared/usecases/*)
// ---------------------------------------------------------------------------------------------

export const COMMANDS: Spec[] = [
  {
    name: 'get-lineage',
    fn: 'getLineage',
    summary: "a version's lineage: training job, datasets, gate results, reviews, decision, endpoints, audit entries",
    flags: (c) => arnFlag(c).option('--group <name>', 'the model package group').option('--version <n>', 'the version in the group', positiveInt),
    payload: versionRef,
    examples: ['get-lineage --group credit-default-demo --version 1', `get-lineage --arn ${SAMPLE_ARN}`],
  },
  {
    name: 'dataset-impact',
    fn: 'datasetImpact',
    summary: 'every training job and model version derived from a dataset; with --revoke, reject every approved one',
    flags: (c) => {
      c.option('--s3-uri <uri>', 'the dataset: an object, a prefix (s3://bucket/path/) or a bucket (s3://bucket)');
      pageFlags(c);
      c.option('--revoke', 'set every derived Approved version to Rejected (needs --reason and --changed-by)');
      c.option('--dry-run', 'with --revoke: show what would change, change nothing');
      changedByFlags(c);
    },
    payload: (o, need) => {
      if (o.s3Uri === undefined) need('--s3-uri');
      return defined({ s3Uri: o.s3Uri, limit: o.limit, cursor: o.cursor, revoke: o.revoke, dryRun: o.dryRun, reason: o.reason, changedBy: o.changedBy });
    },
    rows: 'modelVersions',
  },
  {
    name: 'list-unapproved-deployments',
    fn: 'listUnapprovedDeployments',
    summary: 'endpoint variants that serve a version modelgate has not approved, judged now',
    flags: (c) => pageFlags(c).option('--all', "every one, not only groups whose policy says unapprovedDeployments: follow-up"),
    payload: (o) => defined({ limit: o.limit, cursor: o.cursor, all: o.all }),
    rows: 'deployments',
  },
  {
    name: 'put-policy',
    fn: 'putPolicy',
    summary: "set a group's policy (a new policy version) from a JSON file",
    flags: (c) => {
      c.option('--file <policy.json>', 'the policy (modelPackageGroupName, rules, reviewers, requiredApprovals, changedBy, …)');
      c.option('--changed-by <principal>', "who makes the change (overrides the file's changedBy)").option('--reason <text>', "why (overrides the file's reason)");
    },
    payload: (o, need) => {
      if (o.file === undefined) need('--file');
      const policy = o.file === undefined ? {} : readJsonFile(String(o.file), '--file');
      return { ...policy, ...defined({ changedBy: o.changedBy, reason: o.reason }) };
    },
    examples: ['put-policy --file events/policy-credit-default-demo.json'],
  },
  {
    name: 'get-policy',
    fn: 'getPolicy',
    summary: "a group's current policy, one version of it, or every version (newest first)",
    flags: (c) =>
      c.option('--group <name>', 'the model package group').option('--version <n|all>', 'a policy version, or all (default: the current one)', (v) => (v === 'all' ? 'all' : positiveInt(v))),
    payload: (o, need) => {
      if (o.group === undefined) need('--group');
      return defined({ modelPackageGroupName: o.group, version: o.version });
    },
    rows: 'versions',
  },
  {
    name: 'add-reviewer',
    fn: 'addReviewer',
    summary: "add a reviewer to a group's policy (a new policy version; open reviews get them too)",
    flags: (c) => reviewerFlags(c, 'the approvals needed after the change'),
    payload: reviewerPayload,
  },
  {
    name: 'remove-reviewer',
    fn: 'removeReviewer',
    summary: "remove a reviewer from a group's policy (a new policy version; their open links are revoked)",
    flags: (c) => reviewerFlags(c, 'the approvals needed after the change (removing a reviewer may require lowering it)'),
    payload: reviewerPayload,
  },
  {
    name: 'list-pending-reviews',
    fn: 'listPendingReviews',
    summary: 'open reviews across all groups, oldest first',
    flags: pageFlags,
    payload: (o) => defined({ limit: o.limit, cursor: o.cursor }),
    rows: 'items',
  },
  {
    name: 'sweep-reviews',
    fn: 'sweepReviews',
    summary: 'run the hourly sweep now: reminders, expiry, side effects left pending',
  },
  {
    name: 'reconcile',
    fn: 'reconcile',
    summary: 'reconcile the table with the registry now (every governed group and the endpoints, or one group)',
    flags: (c) => c.option('--group <name>', 'only this group (default: every governed group, and the endpoints)').option('--dry-run', 'report only: change nothing'),
    payload: (o) => defined({ modelPackageGroupName: o.group, dryRun: o.dryRun }),
  },
  {
    name: 'reissue-link',
    fn: 'reissueLink',
    summary: "send a reviewer a new link on a version's open review (their unused one is revoked)",
    flags: (c) => {
      arnFlag(c);
      c.option('--reviewer <email>', "the reviewer's address");
      changedByFlags(c);
    },
    payload: (o, need) => {
      need(...missing(o, { arn: '--arn', reviewer: '--reviewer', changedBy: '--changed-by' }));
      return defined({ modelPackageArn: o.arn, reviewer: o.reviewer, changedBy: o.changedBy, reason: o.reason });
    },
  },
  {
    name: 'reopen-review',
    fn: 'reopenReview',
    summary: 'open a new review, under the current policy, for a version whose review expired',
    flags: (c) => {
      arnFlag(c);
      changedByFlags(c);
    },
    payload: (o, need) => {
      need(...missing(o, { arn: '--arn', changedBy: '--changed-by' }));
      return defined({ modelPackageArn: o.arn, changedBy: o.changedBy, reason: o.reason });
    },
  },
  {
    name: 'get-audit-trail',
    fn: 'getAuditTrail',
    summary: "the audit trail of a version (--arn), a group (--group) or a scope (--scope), oldest first",
    flags: (c) => {
      arnFlag(c);
      c.option('--group <name>', 'a model package group');
      c.addOption(new Option('--scope <scope>', 'a scope of its own').choices(['training-jobs', 'review-links']));
      c.option('--from <time>', 'from this time (ISO 8601 with an offset, e.g. 2026-11-01T00:00:00Z)').option('--to <time>', 'up to this time (ISO 8601)');
      pageFlags(c);
      c.option('--proofs', "each entry's inclusion proof against the latest checkpoint");
    },
    payload: (o, need) => {
      const given = ['arn', 'group', 'scope'].filter((k) => o[k] !== undefined);
      if (given.length > 1) throw new UsageError('give one of --arn, --group and --scope');
      if (given.length === 0) need('--arn, --group or --scope');
      return defined({ modelPackageArn: o.arn, modelPackageGroupName: o.group, scope: o.scope, from: o.from, to: o.to, limit: o.limit, cursor: o.cursor, proofs: o.proofs });
    },
    rows: 'items',
  },
  {
    name: 'verify-audit-trail',
    fn: 'verifyAuditTrail',
    summary: 'recompute the audit log and check it against the newest checkpoint',
    flags: (c) => c.option('--full', 'check every checkpoint, each consistent with the one before'),
    payload: (o) => defined({ full: o.full }),
  },
  {
    name: 'checkpoint-audit-log',
    fn: 'checkpointAuditLog',
    summary: 'sign a checkpoint of the audit log now (when the log grew since the last one)',
  },
  {
    name: 'export-audit-trail',
    fn: 'exportAuditTrail',
    summary: 'export the audit log, its checkpoints and the public key for an auditor (npm run audit:verify)',
  },
  {
    name: 'export-model-card',
    fn: 'exportModelCard',
    summary: "a version's model card, as JSON and Markdown; --push also writes the SageMaker Model Card",
    flags: (c) => {
      arnFlag(c).option('--group <name>', 'the model package group').option('--version <n>', 'the version in the group', positiveInt);
      c.addOption(new Option('--format <format>', 'what to return (default both)').choices(['json', 'markdown', 'both']));
      c.option('--push', 'create or update the SageMaker Model Card <group>-v<version> too');
    },
    payload: (o, need) => ({ ...versionRef(o, need), ...defined({ format: o.format, pushToSageMaker: o.push }) }),
  },
];

/** addReviewer and removeReviewer: the group, the reviewer, the approvals needed after the change. */
function reviewerFlags(cmd: Command, approvals: string): void {
  cmd.option('--group <name>', 'the model package group').option('--reviewer <email>', "the reviewer's address");
  cmd.option('--required-approvals <n>', approvals, positiveInt);
  changedByFlags(cmd);
}

function reviewerPayload(o: Options, need: (...flags: string[]) => void): Record<string, unknown> {
  need(...missing(o, { group: '--group', reviewer: '--reviewer', changedBy: '--changed-by' }));
  return defined({ modelPackageGroupName: o.group, reviewer: o.reviewer, requiredApprovals: o.requiredApprovals, changedBy: o.changedBy, reason: o.reason });
}

const missing = (o: Options, flags: Record<string, string>) => Object.entries(flags).filter(([k]) => o[k] === undefined).map(([, flag]) => flag);

function readJsonFile(file: string, flag: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag} ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return parseJsonObject(text, `${flag} ${file}`);
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what}: not JSON (${(e as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${what}: expected a JSON object`);
  return value as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// The program
// ---------------------------------------------------------------------------------------------

/** The local stack's Lambda endpoint (serverless-offline), as local/config.ts has it. */
export const localLambdaUrl = (env: NodeJS.ProcessEnv) => `http://127.0.0.1:${env.MODELGATE_LAMBDA_PORT ?? 3002}`;

function commonFlags(cmd: Command): void {
  cmd.option('--stage <stage>', 'the deployed stage', 'dev');
  cmd.option('--region <region>', 'the stage\'s AWS region (default: $AWS_REGION)');
  cmd.addOption(
    new Option('--local', 'the local stack (npm start): stage local, its Lambda endpoint http://127.0.0.1:$MODELGATE_LAMBDA_PORT (default 3002)').conflicts(['stage', 'region']),
  );
  cmd.addOption(new Option('--output <format>', 'json (one document) or table (list-like results as a text table)').choices(['json', 'table']).default('json'));
  cmd.option('--data <json>', 'the payload as JSON (flags given as well override its fields)');
  cmd.option('--path <file>', 'the payload from a JSON file, e.g. one of events/ (flags given as well override its fields)');
}

export function buildProgram(io: CliIo, onResult: (code: number) => void): Command {
  const env = io.env ?? process.env;
  const makeClient = io.makeClient ?? ((config: LambdaClientConfig) => new LambdaClient(config));
  const program = new Command('modelgate');
  // Before the subcommands: they inherit these settings.
  program
    .description('Operate modelgate: each command invokes the function of the same name (modelgate-<stage>-<function>) with the Lambda API and prints its JSON result.')
    .usage('<command> [flags]')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)')
    .helpCommand(false);

  for (const spec of COMMANDS) {
    const cmd = program.command(spec.name).summary(spec.summary).description(`${spec.summary}.\nInvokes the function ${spec.fn} (modelgate-<stage>-${spec.fn}).`);
    spec.flags?.(cmd);
    commonFlags(cmd);
    const examples = (spec.examples ?? [spec.name]).map((e) => `  npx modelgate ${e} --stage prod --region eu-west-1`);
    cmd.addHelpText('after', `\nExample${examples.length > 1 ? 's' : ''} (--local instead of --stage and --region: the local stack):\n${examples.join('\n')}`);
    cmd.action(async (opts: Options) => onResult(await invoke(spec, cmd, opts)));
  }

  async function invoke(spec: Spec, cmd: Command, o: Options): Promise<number> {
    // The command line first: a wrong one is exit 2 and invokes nothing.
    let payload: Record<string, unknown>;
    let target: { functionName: string; config: LambdaClientConfig };
    try {
      if (o.data !== undefined && o.path !== undefined) throw new UsageError('give --data or --path, not both');
      const base = o.data !== undefined ? parseJsonObject(o.data, '--data') : o.path !== undefined ? readJsonFile(o.path, '--path') : undefined;
      const need = (...flags: string[]) => {
        if (base === undefined && flags.length > 0) throw new UsageError(`missing ${flags.join(', ')}`);
      };
      payload = { ...base, ...spec.payload?.(o, need) };
      target = targetOf(o, spec.fn);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      cmd.error(`error: ${e.message}`, { exitCode: 2, code: 'modelgate.usage' });
    }
    const client = makeClient(target.config);
    try {
      const out = await client.send(
        new InvokeCommand({ FunctionName: target.functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
      );
      const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
      if (out.FunctionError) {
        io.stderr.write(`${target.functionName} failed: ${describeFunctionError(text, out.FunctionError)}\n`);
        return 1;
      }
      let result: unknown;
      try {
        result = text === '' ? null : JSON.parse(text);
      } catch {
        io.stderr.write(`${target.functionName} returned a result that is not JSON (${text.length} characters)\n`);
        return 1;
      }
      io.stdout.write(o.output === 'table' ? asTable(result, spec.rows) : `${JSON.stringify(result, null, 2)}\n`);
      return 0;
    } catch (e) {
      // Lambda refused the call (no such function, no credentials, access denied, no connection).
      const err = e as Error & { code?: string };
      const hint = o.local ? ` (is the local stack running? npm start; it listens on ${localLambdaUrl(env)})` : '';
      io.stderr.write(`could not invoke ${target.functionName}: ${err.name}: ${err.message}${hint}\n`);
      return 1;
    } finally {
      client.destroy();
    }
  }

  function targetOf(o: Options, fn: string): { functionName: string; config: LambdaClientConfig } {
    if (o.local) {
      return {
        functionName: `modelgate-local-${fn}`,
        // serverless-offline checks no signature; the SDK needs some credentials to sign with.
        config: { endpoint: localLambdaUrl(env), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } },
      };
    }
    if (!/^[a-zA-Z0-9-]+$/.test(o.stage)) throw new UsageError(`--stage ${o.stage}: expected letters, digits and hyphens`);
    const region = o.region ?? env.AWS_REGION;
    if (!region) throw new UsageError('no region: give --region <region> or set AWS_REGION (or --local for the local stack)');
    return { functionName: `modelgate-${o.stage}-${fn}`, config: { region } };
  }

  return program;
}

/**
 * A function error as Lambda returns it: `{errorType, errorMessage, trace}`. Only the type and the
 * message are printed: the message is what the function chose to say (modelgate's errors name the
 * problem, never a token), while a stack trace says nothing an operator can act on.
 */
function describeFunctionError(text: string, functionError: string): string {
  try {
    const e = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof e.errorMessage === 'string') return `${typeof e.errorType === 'string' ? e.errorType : functionError}: ${e.errorMessage}`;
  } catch {
    // not JSON: the type alone
  }
  return `${functionError} (no error message)`;
}

/** A list's items as table rows: an object is a row of its fields, anything else a one-field row. */
const asRows = (list: unknown[]): Record<string, unknown>[] => list.map((r) => (typeof r === 'object' && r !== null ? (r as Record<string, unknown>) : { value: r }));

function asTable(result: unknown, rows?: string): string {
  if (Array.isArray(result)) return renderTable(asRows(result));
  if (result === null || typeof result !== 'object') return renderFields({ result });
  const record = result as Record<string, unknown>;
  const list = rows !== undefined ? record[rows] : undefined;
  if (!Array.isArray(list)) return renderFields(record);
  const table = renderTable(asRows(list));
  return typeof record.cursor === 'string' ? `${table}next page: --cursor ${record.cursor}\n` : table;
}

/**
 * Runs one command line (without `node` and the script: `process.argv.slice(2)`); returns the exit
 * code. Help is 0; a wrong command line 2 (commander's errors included); a failed invocation 1.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    // No command at all: commander prints the help to stderr and throws (commander.help, below).
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return e.exitCode === 0 ? 0 : 2;
      return 2;
    }
    throw e;
  }
}
