/**
 * A local stand-in for Amazon SNS, for development only (never deployed).
 *
 * The real `@aws-sdk/client-sns` talks to it through AWS_ENDPOINT_URL_SNS. It speaks the SDK's
 * awsQuery protocol: `POST /` with a form-encoded body `Action=…&Version=2010-03-31&…`, answered
 * with XML (`<ActionResponse><ActionResult>…`), errors as `<ErrorResponse><Error><Type/><Code/>
 * <Message/></Error>` with the HTTP status of the error (the SDK maps the Code, e.g. NotFound,
 * to its exception class, e.g. NotFoundException).
 *
 * Nothing is delivered anywhere: every Publish is printed in readable form (the review link in
 * the body is the point: this is how a developer gets it) and, with `outboxDir`, written as
 * `<seq>-<topic>-<addressee>.json` plus a `.txt` twin. The recipients are the endpoints of the
 * topic's subscriptions whose filter policy matches the message attributes, as SNS would
 * deliver it. Email subscriptions count as confirmed (there is no mailbox to click in).
 *
 * Operations: CreateTopic, ListTopics, Publish, Subscribe, Unsubscribe, ListSubscriptionsByTopic,
 * GetSubscriptionAttributes. State (topics, subscriptions) lives in memory; only the outbox is
 * on disk. No signature checking.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canonicalPolicy, FilterPolicyError, matches, parseFilterPolicy, type FilterPolicy, type MessageAttribute } from './filter-policy.js';
import { formatMessage, nextSeq, writeOutbox, type OutboxMessage } from './outbox.js';

export type { OutboxMessage } from './outbox.js';

export interface SnsStandInOptions {
  /** 0 (the default) picks a free port; the handle tells which. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where each message is written as JSON plus a .txt twin; numbering continues from what is there. */
  outboxDir?: string;
  /** For the ARNs. Default us-east-1. */
  region?: string;
  /** For the ARNs. Default 000000000000. */
  account?: string;
  /** Topic names to create at start. */
  topics?: string[];
  /** Where the readable form of each message goes. Default console.log. */
  print?: (text: string) => void;
}

export interface SnsStandIn {
  /** The endpoint for AWS_ENDPOINT_URL_SNS, e.g. http://127.0.0.1:4575 */
  url: string;
  port: number;
  /** ARN of a topic by name (pre-created or created since), undefined if there is none. */
  topicArn(name: string): string | undefined;
  /** What was published since start, oldest first. */
  messages(): OutboxMessage[];
  close(): Promise<void>;
}

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const MAX_REQUEST_BYTES = 1024 * 1024;
/** SNS's limit for a message and its attributes together (256 KiB). */
const MAX_MESSAGE_BYTES = 262_144;
const PAGE = 100;
const PROTOCOLS = new Set(['email', 'email-json', 'http', 'https', 'sqs', 'lambda', 'sms', 'application', 'firehose']);
const SUBSCRIPTION_ATTRIBUTES = new Set([
  'DeliveryPolicy',
  'FilterPolicy',
  'FilterPolicyScope',
  'RawMessageDelivery',
  'RedrivePolicy',
  'SubscriptionRoleArn',
  'ReplayPolicy',
]);

/** An error as SNS answers it; `code` is the awsQuery error code the SDK maps to an exception. */
class SnsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}
const invalid = (message: string): SnsError => new SnsError('InvalidParameter', `Invalid parameter: ${message}`);
const notFound = (message: string): SnsError => new SnsError('NotFound', message, 404);

interface Topic {
  name: string;
  arn: string;
}

interface Subscription {
  arn: string;
  topicArn: string;
  protocol: string;
  endpoint: string;
  /** As given to Subscribe (FilterPolicyScope defaults to MessageAttributes). */
  attributes: Map<string, string>;
  policy: FilterPolicy | undefined;
}

type Params = URLSearchParams;

const escapeXml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
const el = (tag: string, value: string): string => `<${tag}>${escapeXml(value)}</${tag}>`;

/**
 * The awsQuery form of a map or a list of structures: `Prefix.entry.N.Field` (maps) or
 * `Prefix.member.N.Field`, collected as one record of fields per N, in N order.
 */
function entries(params: Params, prefix: string, kind: 'entry' | 'member' = 'entry'): Array<Record<string, string>> {
  const byIndex = new Map<number, Record<string, string>>();
  const head = `${prefix}.${kind}.`;
  for (const [k, v] of params) {
    if (!k.startsWith(head)) continue;
    const rest = k.slice(head.length);
    const dot = rest.indexOf('.');
    const n = Number(dot < 0 ? rest : rest.slice(0, dot));
    if (!Number.isInteger(n) || dot < 0) continue;
    const record = byIndex.get(n) ?? {};
    record[rest.slice(dot + 1)] = v;
    byIndex.set(n, record);
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, r]) => r);
}

function required(params: Params, name: string): string {
  const v = params.get(name);
  if (v === null || v === '') throw invalid(`${name} Reason: no value for required parameter`);
  return v;
}

const bool = (v: string | null): boolean => v?.toLowerCase() === 'true';

/** Subjects: UTF-8 text with no line breaks or control characters, less than 100 characters long. */
function checkSubject(subject: string | null): string | undefined {
  if (subject === null) return undefined;
  // eslint-disable-next-line no-control-regex
  if (subject === '' || [...subject].length >= 100 || /[\u0000-\u001f\u007f]/.test(subject)) throw invalid('Subject');
  return subject;
}

function messageAttributes(params: Params): Map<string, MessageAttribute> {
  const out = new Map<string, MessageAttribute>();
  const list = entries(params, 'MessageAttributes');
  if (list.length > 10) throw invalid('MessageAttributes Reason: Number of message attributes [' + list.length + '] exceeds the allowed maximum [10].');
  for (const e of list) {
    const name = e['Name'];
    const dataType = e['Value.DataType'];
    if (!name) throw invalid('MessageAttributes Reason: a message attribute has no name');
    if (!dataType) throw invalid(`The message attribute '${name}' must contain a message attribute type.`);
    const base = dataType.split('.')[0];
    if (!['String', 'Number', 'Binary'].includes(base ?? '')) {
      throw invalid(`The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    }
    const stringValue = e['Value.StringValue'];
    const binaryValue = e['Value.BinaryValue'];
    if (base === 'Binary' ? !binaryValue : !stringValue) {
      throw invalid(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${base}'.`);
    }
    if (base === 'Number' && !Number.isFinite(Number(stringValue))) throw invalid(`Could not cast message attribute '${name}' value to number.`);
    if (dataType === 'String.Array') {
      let ok = false;
      try {
        ok = Array.isArray(JSON.parse(stringValue ?? ''));
      } catch {
        ok = false;
      }
      if (!ok) throw invalid(`The message attribute '${name}' with type 'String.Array' has an invalid value`);
    }
    out.set(name, { dataType, ...(base === 'Binary' ? { binaryValue } : { stringValue }) });
  }
  return out;
}

export async function startSnsStandIn(opts: SnsStandInOptions = {}): Promise<SnsStandIn> {
  const region = opts.region ?? 'us-east-1';
  const account = opts.account ?? '000000000000';
  const print = opts.print ?? ((text: string) => console.log(text));
  const outboxDir = opts.outboxDir;
  let seq = outboxDir ? await nextSeq(outboxDir) : 1;

  const topics = new Map<string, Topic>(); // by ARN
  const subscriptions = new Map<string, Subscription>(); // by ARN, in creation order
  const published: OutboxMessage[] = [];

  const topicArnOf = (name: string): string => `arn:aws:sns:${region}:${account}:${name}`;

  function createTopic(name: string): Topic {
    if (name.endsWith('.fifo')) throw invalid('Topic Name Reason: FIFO topics are not supported by the local SNS stand-in');
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(name)) {
      throw invalid('Topic Name: must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.');
    }
    const arn = topicArnOf(name);
    const existing = topics.get(arn);
    if (existing) return existing;
    const topic = { name, arn };
    topics.set(arn, topic);
    return topic;
  }
  for (const name of opts.topics ?? []) createTopic(name);

  function topic(arn: string | null): Topic {
    if (!arn) throw invalid('TopicArn Reason: no value for required parameter');
    if (arn.split(':').length !== 6 || !arn.startsWith('arn:')) throw invalid('TopicArn');
    const t = topics.get(arn);
    if (!t) throw notFound('Topic does not exist');
    return t;
  }

  const topicSubscriptions = (arn: string): Subscription[] => [...subscriptions.values()].filter((s) => s.topicArn === arn);

  function subscriptionAttributes(params: Params): Map<string, string> {
    const attributes = new Map<string, string>();
    for (const e of entries(params, 'Attributes')) {
      const key = e['key'];
      const value = e['value'] ?? '';
      if (!key || !SUBSCRIPTION_ATTRIBUTES.has(key)) throw invalid(`AttributeName${key ? ` Reason: unknown attribute ${key}` : ''}`);
      attributes.set(key, key === 'RawMessageDelivery' ? value.toLowerCase() : value);
    }
    const scope = attributes.get('FilterPolicyScope');
    if (scope !== undefined && scope !== 'MessageAttributes') {
      throw invalid(
        scope === 'MessageBody'
          ? 'Attributes Reason: FilterPolicyScope MessageBody is not supported by the local SNS stand-in (MessageAttributes is)'
          : `Attributes Reason: FilterPolicyScope: Invalid value [${scope}]. Please use either MessageBody or MessageAttributes`,
      );
    }
    return attributes;
  }

  /** Compares only the attributes the request gives, as SNS does (an omitted one is not a difference). */
  function sameAttributes(existing: Map<string, string>, requested: Map<string, string>): boolean {
    for (const [k, v] of requested) {
      const current = existing.get(k) ?? (k === 'FilterPolicyScope' ? 'MessageAttributes' : k === 'RawMessageDelivery' ? 'false' : undefined);
      if (current === undefined) return false;
      if (k === 'FilterPolicy' ? canonicalPolicy(current) !== canonicalPolicy(v) : current !== v) return false;
    }
    return true;
  }

  const actions: Record<string, (p: Params) => Promise<string | undefined> | string | undefined> = {
    CreateTopic(p) {
      return el('TopicArn', createTopic(required(p, 'Name')).arn);
    },

    ListTopics() {
      return `<Topics>${[...topics.values()].map((t) => `<member>${el('TopicArn', t.arn)}</member>`).join('')}</Topics>`;
    },

    Subscribe(p) {
      const t = topic(p.get('TopicArn'));
      const protocol = required(p, 'Protocol');
      if (!PROTOCOLS.has(protocol)) throw invalid(`Amazon SNS does not support this protocol string: ${protocol}`);
      const endpoint = p.get('Endpoint');
      if (!endpoint) throw invalid('Endpoint Reason: no value for required parameter');
      if (protocol.startsWith('email') && !/^[^@\s]+@[^@\s]+$/.test(endpoint)) throw invalid('Email address');
      if (protocol.startsWith('http') && !endpoint.startsWith(`${protocol}://`)) throw invalid('Endpoint must match the specified protocol');
      const attributes = subscriptionAttributes(p);
      let policy: FilterPolicy | undefined;
      try {
        policy = parseFilterPolicy(attributes.get('FilterPolicy') ?? '');
      } catch (e) {
        if (e instanceof FilterPolicyError) throw invalid(e.message);
        throw e;
      }

      const existing = topicSubscriptions(t.arn).find((s) => s.protocol === protocol && s.endpoint === endpoint);
      if (existing) {
        if (!sameAttributes(existing.attributes, attributes)) throw invalid('Attributes Reason: Subscription already exists with different attributes');
        return el('SubscriptionArn', existing.arn);
      }
      if (policy && !attributes.has('FilterPolicyScope')) attributes.set('FilterPolicyScope', 'MessageAttributes');
      const arn = `${t.arn}:${randomUUID()}`;
      subscriptions.set(arn, { arn, topicArn: t.arn, protocol, endpoint, attributes, policy });
      // SNS answers a new subscription that needs confirming (email, http) with "pending confirmation"
      // unless asked for the ARN; the stand-in treats it as confirmed all the same.
      const needsConfirming = ['email', 'email-json', 'http', 'https'].includes(protocol);
      return el('SubscriptionArn', needsConfirming && !bool(p.get('ReturnSubscriptionArn')) ? 'pending confirmation' : arn);
    },

    Unsubscribe(p) {
      const arn = required(p, 'SubscriptionArn');
      const parts = arn.split(':');
      if (!arn.startsWith('arn:') || parts.length < 6) throw invalid(`SubscriptionArn Reason: An ARN must have at least 6 elements, not ${parts.length}`);
      if (parts.length === 6) throw invalid('SubscriptionId');
      subscriptions.delete(arn); // an unknown subscription is not an error (SNS answers it the same)
      return undefined;
    },

    ListSubscriptionsByTopic(p) {
      const t = topic(p.get('TopicArn'));
      const all = topicSubscriptions(t.arn);
      const start = Number(p.get('NextToken') ?? '0');
      if (!Number.isInteger(start) || start < 0 || start > all.length) throw invalid('NextToken');
      const page = all.slice(start, start + PAGE);
      const members = page
        .map(
          (s) =>
            `<member>${el('SubscriptionArn', s.arn)}${el('Owner', account)}${el('Protocol', s.protocol)}${el('Endpoint', s.endpoint)}${el('TopicArn', s.topicArn)}</member>`,
        )
        .join('');
      const next = start + PAGE < all.length ? el('NextToken', String(start + PAGE)) : '';
      return `<Subscriptions>${members}</Subscriptions>${next}`;
    },

    GetSubscriptionAttributes(p) {
      const arn = required(p, 'SubscriptionArn');
      const s = subscriptions.get(arn);
      if (!s) throw notFound('Subscription does not exist');
      const attributes: Record<string, string> = {
        SubscriptionArn: s.arn,
        TopicArn: s.topicArn,
        Protocol: s.protocol,
        Endpoint: s.endpoint,
        Owner: account,
        PendingConfirmation: 'false',
        ConfirmationWasAuthenticated: 'true',
        RawMessageDelivery: 'false',
        ...Object.fromEntries(s.attributes),
      };
      const body = Object.entries(attributes)
        .map(([k, v]) => `<entry>${el('key', k)}${el('value', v)}</entry>`)
        .join('');
      return `<Attributes>${body}</Attributes>`;
    },

    async Publish(p) {
      if (p.get('PhoneNumber')) throw invalid('PhoneNumber Reason: SMS is not supported by the local SNS stand-in');
      const t = topic(p.get('TopicArn') || p.get('TargetArn'));
      const message = p.get('Message');
      if (!message) throw invalid('Empty message');
      if (p.get('MessageStructure')) throw invalid('MessageStructure Reason: not supported by the local SNS stand-in');
      const subject = checkSubject(p.get('Subject'));
      const attributes = messageAttributes(p);
      let size = Buffer.byteLength(message);
      for (const [name, a] of attributes) size += Buffer.byteLength(name) + Buffer.byteLength(a.dataType) + Buffer.byteLength(a.stringValue ?? a.binaryValue ?? '');
      if (size > MAX_MESSAGE_BYTES) throw invalid('Message too long');

      const subs = topicSubscriptions(t.arn);
      const m: OutboxMessage = {
        seq: seq++,
        topic: t.name,
        topicArn: t.arn,
        ...(subject !== undefined ? { subject } : {}),
        message,
        attributes: Object.fromEntries([...attributes].map(([k, a]) => [k, a.stringValue ?? a.binaryValue ?? ''])),
        recipients: [...new Set(subs.filter((s) => matches(s.policy, attributes)).map((s) => s.endpoint))],
        subscriptions: subs.length,
        messageId: randomUUID(),
        at: new Date().toISOString(),
      };
      published.push(m);
      const text = formatMessage(m);
      print(text);
      if (outboxDir) await writeOutbox(outboxDir, m, text);
      return el('MessageId', m.messageId);
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const send = (status: number, xml: string): void => {
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-RequestId': requestId, 'content-length': Buffer.byteLength(xml) });
      res.end(xml);
    };
    try {
      if (req.method !== 'POST' && req.method !== 'GET') throw new SnsError('InvalidAction', `Method ${req.method} is not supported`, 405);
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        length += chunk.length;
        if (length > MAX_REQUEST_BYTES) throw new SnsError('RequestTooLarge', 'Request body too large', 413);
        chunks.push(chunk);
      }
      // Parameters may come in the query string (GET) or the form body (POST, what the SDK sends).
      const params = new URLSearchParams(new URL(req.url ?? '/', 'http://localhost').search);
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) params.append(k, v);

      const action = params.get('Action') ?? '';
      const run = Object.hasOwn(actions, action) ? actions[action] : undefined;
      if (!run) throw new SnsError('InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`);
      const result = await run(params);
      send(
        200,
        `<${action}Response xmlns="${XMLNS}">${result === undefined ? '' : `<${action}Result>${result}</${action}Result>`}` +
          `<ResponseMetadata>${el('RequestId', requestId)}</ResponseMetadata></${action}Response>`,
      );
    } catch (e) {
      const err = e instanceof SnsError ? e : new SnsError('InternalError', `local SNS stand-in: ${e instanceof Error ? e.message : String(e)}`, 500, 'Receiver');
      send(
        err.status,
        `<ErrorResponse xmlns="${XMLNS}"><Error>${el('Type', err.type)}${el('Code', err.code)}${el('Message', err.message)}</Error>` +
          `${el('RequestId', requestId)}</ErrorResponse>`,
      );
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const clientHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${clientHost}:${port}`,
    port,
    topicArn: (name) => topics.get(topicArnOf(name))?.arn,
    messages: () => published.map((m) => structuredClone(m)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
