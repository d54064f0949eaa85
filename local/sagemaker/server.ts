/**
 * A local stand-in for the SageMaker Model Registry (and training jobs) that speaks SageMaker's
 * wire protocol, so that the unchanged `@aws-sdk/client-sagemaker` works against it with
 * `AWS_ENDPOINT_URL_SAGEMAKER=http://127.0.0.1:<port>`. A development tool, never deployed.
 *
 *   const sm = await startSageMakerStandIn({ stateFile: '.local/sagemaker/state.json', onEvent });
 *   process.env.AWS_ENDPOINT_URL_SAGEMAKER = sm.url;
 *   ...
 *   await sm.drain();   // every event delivered
 *   await sm.close();
 *
 * Routes: `POST /` with `X-Amz-Target: SageMaker.<Op>` (see ./registry.ts for the operations) or
 * `ModelgateLocal.<Op>` (seeding: CompleteTrainingJob, FailTrainingJob); `GET /_local/state`.
 *
 * Requests are handled one at a time: change the state, save it (when `stateFile` is given),
 * queue the events, answer. Events are then delivered in order, off the request path.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventQueue } from './event-queue.js';
import {
  CONTENT_TYPE,
  InputReader,
  ServiceError,
  accessKeyIdFrom,
  errorBody,
  parseJsonObject,
  parseTarget,
  readBody,
  serializeBody,
} from './protocol.js';
import { Registry, localOperations, sageMakerOperations, type EventBridgeEvent, type Operation } from './registry.js';
import { loadState, saveState } from './state-file.js';

export type { EventBridgeEvent } from './registry.js';

export interface SageMakerStandInOptions {
  /** 0 or absent: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** JSON persistence (written atomically after every change); in memory when absent. */
  stateFile?: string;
  /** Default us-east-1. */
  region?: string;
  /** Default 123456789012. */
  account?: string;
  /** Called once per event, in order, one at a time, after the change is saved. */
  onEvent?: (e: EventBridgeEvent) => Promise<void>;
}

export interface SageMakerStandIn {
  /** `http://<host>:<port>`: the value for AWS_ENDPOINT_URL_SAGEMAKER. */
  url: string;
  port: number;
  /** Resolves when every queued event has been delivered. */
  drain(): Promise<void>;
  /** Stops listening, closes open connections, then waits for queued events. */
  close(): Promise<void>;
}

/** SageMaker accepts request bodies up to a few MB; nothing modelgate sends comes near. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

const NAMESPACES: Record<string, Record<string, Operation>> = {
  SageMaker: sageMakerOperations,
  ModelgateLocal: localOperations,
};

export async function startSageMakerStandIn(opts: SageMakerStandInOptions = {}): Promise<SageMakerStandIn> {
  const host = opts.host ?? '127.0.0.1';
  const stateFile = opts.stateFile;
  const saved = stateFile ? await loadState(stateFile) : undefined;
  const registry = new Registry({
    region: opts.region ?? 'us-east-1',
    account: opts.account ?? '123456789012',
    ...(saved ? { state: saved } : {}),
  });
  const events = new EventQueue(opts.onEvent);

  // One request at a time: an operation, its save and its events form one step.
  let turn: Promise<unknown> = Promise.resolve();
  const serially = <T>(step: () => Promise<T>): Promise<T> => {
    const result = turn.then(step);
    turn = result.catch(() => undefined);
    return result;
  };

  const perform = (operation: Operation, body: Record<string, unknown>, accessKeyId: string, readOnly: boolean) =>
    serially(async () => {
      // A read (Describe*, List*) changes nothing, so it needs no snapshot to roll back to: copying
      // the whole state on every request made a busy stand-in answer in about a second.
      const before = readOnly ? undefined : structuredClone(registry.state);
      try {
        const outcome = operation(registry, new InputReader(body), { accessKeyId });
        if (outcome.changed && stateFile) await saveState(stateFile, registry.state);
        events.push(outcome.events);
        return outcome.output;
      } catch (e) {
        if (before) registry.state = before; // nothing half-done stays behind, in memory or on disk
        throw e;
      }
    });

  const server = createServer((req, res) => {
    serve(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, internal(e));
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/_local/state') {
      const state = await serially(async () => structuredClone(registry.state));
      return send(res, 200, 'application/json', `${JSON.stringify(state, null, 2)}\n`);
    }
    if (path !== '/') return sendError(res, new ServiceError('UnknownOperationException', `No route for ${req.method} ${path}`, 404));
    if (req.method !== 'POST') return sendError(res, new ServiceError('UnknownOperationException', `${req.method} is not supported; POST to /`, 405));
    try {
      const text = await readBody(req, MAX_BODY_BYTES);
      const target = parseTarget(req.headers['x-amz-target']);
      const operation = target ? NAMESPACES[target.namespace]?.[target.operation] : undefined;
      if (!target || !operation) {
        const name = typeof req.headers['x-amz-target'] === 'string' ? req.headers['x-amz-target'] : '(no X-Amz-Target)';
        throw new ServiceError('UnknownOperationException', `The SageMaker stand-in does not implement ${name}.`);
      }
      const body = parseJsonObject(text);
      const accessKeyId = accessKeyIdFrom(req.headers['authorization']) ?? 'anonymous';
      const output = await perform(operation, body, accessKeyId, /^(Describe|List|BatchDescribe)/.test(target.operation));
      send(res, 200, CONTENT_TYPE, serializeBody(output));
    } catch (e) {
      sendError(res, e instanceof ServiceError ? e : internal(e));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    drain: () => events.drain(),
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections(); // the SDK keeps connections alive
      });
      await turn;
      await events.drain();
    },
  };
}

function internal(e: unknown): ServiceError {
  console.error('sagemaker stand-in: internal error:', e);
  return new ServiceError('InternalFailure', 'The stand-in failed to process the request; see its log.', 500);
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

function sendError(res: ServerResponse, e: ServiceError): void {
  res.setHeader('x-amzn-errortype', e.code);
  send(res, e.status, CONTENT_TYPE, errorBody(e));
}
