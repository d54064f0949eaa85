/**
 * The local SNS stand-in (local/sns/server.ts), driven by the real @aws-sdk/client-sns through
 * AWS_ENDPOINT_URL_SNS, as the local stack uses it: awsQuery requests, XML answers and errors.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { snsNotifier, snsSubscriptions } from '../../shared/aws/sns.js';
import { startSnsStandIn, type SnsStandIn } from '../../local/sns/server.js';

const REVIEWERS = 'modelgate-test-reviewers';
const GOVERNANCE = 'modelgate-test-governance';

/** The error the SDK throws, with what the SNS answer said. */
async function failure(p: Promise<unknown>): Promise<{ name: string; Code?: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { Code?: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, Code: err.Code, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

const reviewerFilter = (email: string): Record<string, string> => ({
  FilterPolicy: JSON.stringify({ reviewer: [email] }),
  FilterPolicyScope: 'MessageAttributes',
});

describe('local SNS stand-in, through the real SNS client', () => {
  let outbox: string;
  let sns: SnsStandIn;
  let printed: string[];
  let client: SNSClient;
  let reviewersArn: string;

  const start = async (port?: number): Promise<SnsStandIn> =>
    startSnsStandIn({ port, outboxDir: outbox, topics: [REVIEWERS, GOVERNANCE], print: (t) => printed.push(t) });

  beforeAll(async () => {
    outbox = mkdtempSync(join(tmpdir(), 'modelgate-sns-outbox-'));
    printed = [];
    sns = await start();
    process.env['AWS_ENDPOINT_URL_SNS'] = sns.url;
    process.env['AWS_REGION'] ??= 'us-east-1';
    process.env['AWS_ACCESS_KEY_ID'] ??= 'test';
    process.env['AWS_SECRET_ACCESS_KEY'] ??= 'test';
    client = new SNSClient({});
    const arn = sns.topicArn(REVIEWERS);
    if (!arn) throw new Error('reviewers topic not pre-created');
    reviewersArn = arn;
  });

  afterAll(async () => {
    client?.destroy();
    await sns?.close();
    rmSync(outbox, { recursive: true, force: true });
  });

  it('CreateTopic is idempotent by name; pre-created topics are listed', async () => {
    const a = await client.send(new CreateTopicCommand({ Name: REVIEWERS }));
    expect(a.TopicArn).toBe(`arn:aws:sns:us-east-1:000000000000:${REVIEWERS}`);
    expect(a.TopicArn).toBe(reviewersArn);
    const fresh = await client.send(new CreateTopicCommand({ Name: 'modelgate-test-other' }));
    const again = await client.send(new CreateTopicCommand({ Name: 'modelgate-test-other' }));
    expect(again.TopicArn).toBe(fresh.TopicArn);
    const { Topics } = await client.send(new ListTopicsCommand({}));
    expect(Topics?.map((t) => t.TopicArn)).toEqual([reviewersArn, sns.topicArn(GOVERNANCE), fresh.TopicArn]);
    expect((await failure(client.send(new CreateTopicCommand({ Name: 'no spaces' })))).name).toBe('InvalidParameterException');
  });

  it('delivers each reviewer only their own message (filter policy on the reviewer attribute), prints it and writes the outbox', async () => {
    for (const email of ['alice@example.com', 'bob@example.com']) {
      const out = await client.send(
        new SubscribeCommand({ TopicArn: reviewersArn, Protocol: 'email', Endpoint: email, Attributes: reviewerFilter(email), ReturnSubscriptionArn: true }),
      );
      expect(out.SubscriptionArn).toMatch(new RegExp(`^${reviewersArn}:[0-9a-f-]{36}$`));
    }
    printed.length = 0;
    const before = sns.messages().length;
    for (const email of ['alice@example.com', 'bob@example.com']) {
      const out = await client.send(
        new PublishCommand({
          TopicArn: reviewersArn,
          Subject: `Review requested: churn v3 (${email})`,
          Message: `Please review churn v3.\nhttp://127.0.0.1:3000/review?token=tok-${email}&x=1\n`,
          MessageAttributes: { reviewer: { DataType: 'String', StringValue: email } },
        }),
      );
      expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    }

    const [alice, bob] = sns.messages().slice(before);
    expect(alice?.recipients).toEqual(['alice@example.com']);
    expect(bob?.recipients).toEqual(['bob@example.com']);
    expect(bob?.seq).toBe((alice?.seq ?? 0) + 1);
    expect(alice).toMatchObject({
      topic: REVIEWERS,
      topicArn: reviewersArn,
      subject: 'Review requested: churn v3 (alice@example.com)',
      message: 'Please review churn v3.\nhttp://127.0.0.1:3000/review?token=tok-alice@example.com&x=1\n',
      attributes: { reviewer: 'alice@example.com' },
      subscriptions: 2,
    });

    expect(printed).toHaveLength(2);
    expect(printed[0]).toContain(REVIEWERS);
    expect(printed[0]).toContain('to:         alice@example.com');
    expect(printed[0]).toContain('subject:    Review requested: churn v3 (alice@example.com)');
    expect(printed[0]).toContain('attributes: reviewer=alice@example.com');
    // The body as is, on lines of its own (not indented): the link can be copied whole.
    expect(printed[0]).toContain('\nPlease review churn v3.\nhttp://127.0.0.1:3000/review?token=tok-alice@example.com&x=1\n');

    const seq = String(alice?.seq).padStart(6, '0');
    const json = join(outbox, `${seq}-${REVIEWERS}-alice@example.com.json`);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(alice);
    expect(readFileSync(join(outbox, `${seq}-${REVIEWERS}-alice@example.com.txt`), 'utf8')).toBe(printed[0] + '\n');
  });

  it('says who got nothing: no subscriber matched, or no subscribers at all', async () => {
    printed.length = 0;
    await client.send(
      new PublishCommand({ TopicArn: reviewersArn, Subject: 'nobody', Message: 'm1', MessageAttributes: { reviewer: { DataType: 'String', StringValue: 'carol@example.com' } } }),
    );
    const governanceArn = sns.topicArn(GOVERNANCE);
    await client.send(new PublishCommand({ TopicArn: governanceArn, Subject: 'Rejected: churn v3', Message: 'm2' }));
    const [toCarol, governance] = sns.messages().slice(-2);
    expect(toCarol?.recipients).toEqual([]);
    expect(printed[0]).toContain('to:         no subscriber matched (2 subscriptions on the topic)');
    expect(governance).toMatchObject({ topic: GOVERNANCE, recipients: [], subscriptions: 0, attributes: {} });
    expect(printed[1]).toContain('to:         no subscribers');
    expect(printed[1]).toContain('attributes: (none)');
    const files = readdirSync(outbox);
    // Named after the reviewer attribute when nobody matched, 'all' without one.
    expect(files).toContain(`${String(toCarol?.seq).padStart(6, '0')}-${REVIEWERS}-carol@example.com.json`);
    expect(files).toContain(`${String(governance?.seq).padStart(6, '0')}-${GOVERNANCE}-all.json`);
  });

  it('Publish to an unknown topic: NotFound (NotFoundException in the SDK), 404', async () => {
    const e = await failure(client.send(new PublishCommand({ TopicArn: `${reviewersArn}-nope`, Message: 'm' })));
    expect(e).toEqual({ name: 'NotFoundException', Code: 'NotFound', message: 'Topic does not exist', status: 404 });
  });

  it('refuses what SNS refuses: a subject with a line break or of 100 characters, an empty message', async () => {
    for (const Subject of ['two\nlines', 'x'.repeat(100)]) {
      const e = await failure(client.send(new PublishCommand({ TopicArn: reviewersArn, Subject, Message: 'm' })));
      expect(e).toMatchObject({ name: 'InvalidParameterException', Code: 'InvalidParameter', message: 'Invalid parameter: Subject', status: 400 });
    }
    await client.send(new PublishCommand({ TopicArn: reviewersArn, Subject: 'x'.repeat(99), Message: 'm' }));
    expect((await failure(client.send(new PublishCommand({ TopicArn: reviewersArn, Message: '' })))).message).toBe('Invalid parameter: Empty message');
  });

  it('Subscribe: same endpoint and attributes → same ARN; different filter → InvalidParameter; Unsubscribe removes it', async () => {
    const email = 'dave@example.com';
    const subscribe = (attributes: Record<string, string>) =>
      client.send(new SubscribeCommand({ TopicArn: reviewersArn, Protocol: 'email', Endpoint: email, Attributes: attributes, ReturnSubscriptionArn: true }));
    const first = await subscribe(reviewerFilter(email));
    // Key order and spacing of the policy do not make it different; omitting an attribute does not either.
    const same = await subscribe({ FilterPolicy: `{ "reviewer" : [ "${email}" ] }` });
    expect(same.SubscriptionArn).toBe(first.SubscriptionArn);

    const e = await failure(subscribe(reviewerFilter('someone-else@example.com')));
    expect(e).toEqual({
      name: 'InvalidParameterException',
      Code: 'InvalidParameter',
      message: 'Invalid parameter: Attributes Reason: Subscription already exists with different attributes',
      status: 400,
    });

    const attrs = await client.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: first.SubscriptionArn }));
    expect(attrs.Attributes).toMatchObject({ Endpoint: email, Protocol: 'email', TopicArn: reviewersArn, ...reviewerFilter(email) });

    const endpoints = async (): Promise<string[]> =>
      ((await client.send(new ListSubscriptionsByTopicCommand({ TopicArn: reviewersArn }))).Subscriptions ?? []).map((s) => s.Endpoint ?? '');
    expect(await endpoints()).toContain(email);
    await client.send(new UnsubscribeCommand({ SubscriptionArn: first.SubscriptionArn }));
    expect(await endpoints()).not.toContain(email);
    // Unsubscribing again is not an error (SNS answers an unknown subscription the same way).
    await client.send(new UnsubscribeCommand({ SubscriptionArn: first.SubscriptionArn }));

    await client.send(new PublishCommand({ TopicArn: reviewersArn, Message: 'gone', MessageAttributes: { reviewer: { DataType: 'String', StringValue: email } } }));
    expect(sns.messages().at(-1)?.recipients).toEqual([]);
  });

  it('a new email subscription without ReturnSubscriptionArn answers "pending confirmation", as SNS does', async () => {
    const out = await client.send(new SubscribeCommand({ TopicArn: reviewersArn, Protocol: 'email', Endpoint: 'erin@example.com' }));
    expect(out.SubscriptionArn).toBe('pending confirmation');
    // Without a filter policy it gets every message of the topic.
    await client.send(new PublishCommand({ TopicArn: reviewersArn, Message: 'all', MessageAttributes: { reviewer: { DataType: 'String', StringValue: 'alice@example.com' } } }));
    expect(sns.messages().at(-1)?.recipients).toEqual(['alice@example.com', 'erin@example.com']);
  });

  it('filter policies: String.Array attributes, numbers and exists match; operators it cannot evaluate are refused', async () => {
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: 'modelgate-test-filters' }));
    const sub = (Endpoint: string, policy: unknown) =>
      client.send(
        new SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint, Attributes: { FilterPolicy: JSON.stringify(policy) }, ReturnSubscriptionArn: true }),
      );
    await sub('array@example.com', { reviewer: ['array@example.com'] });
    await sub('number@example.com', { level: [2] });
    await sub('exists@example.com', { urgent: [{ exists: true }] });
    await client.send(
      new PublishCommand({
        TopicArn,
        Message: 'm',
        MessageAttributes: {
          reviewer: { DataType: 'String.Array', StringValue: JSON.stringify(['x@example.com', 'array@example.com']) },
          level: { DataType: 'Number', StringValue: '2.0' },
        },
      }),
    );
    expect(sns.messages().at(-1)?.recipients).toEqual(['array@example.com', 'number@example.com']);

    const refused = await failure(sub('prefix@example.com', { reviewer: [{ prefix: 'a' }] }));
    expect(refused.name).toBe('InvalidParameterException');
    expect(refused.message).toMatch(/^Invalid parameter: FilterPolicy: "reviewer": operator "prefix": the local SNS stand-in supports/);
    const scope = await failure(
      client.send(
        new SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: 'body@example.com', Attributes: { FilterPolicy: '{"a":["b"]}', FilterPolicyScope: 'MessageBody' } }),
      ),
    );
    expect(scope.message).toMatch(/MessageBody is not supported by the local SNS stand-in/);
  });

  it("modelgate's own adapters (snsSubscriptions, snsNotifier) against the stand-in", async () => {
    const subscriptions = snsSubscriptions(client, reviewersArn);
    const notifier = snsNotifier(client, { reviewers: reviewersArn, governance: sns.topicArn(GOVERNANCE) ?? '' });
    const arn = await subscriptions.subscribe('frank@example.com');
    expect(await subscriptions.subscribe('frank@example.com')).toBe(arn); // adding a reviewer twice is harmless

    await notifier.publish({ topic: 'reviewers', subject: 'Review requested: fraud v7', message: 'link: http://127.0.0.1:3000/review?token=f', attributes: { reviewer: 'frank@example.com' } });
    await notifier.publish({ topic: 'governance', subject: 'Approved: fraud v7', message: 'approved', attributes: { modelPackageGroup: 'fraud' } });
    const [toFrank, governance] = sns.messages().slice(-2);
    // erin@example.com subscribed without a filter policy in the test above, so she gets it too.
    expect(toFrank).toMatchObject({ topic: REVIEWERS, subject: 'Review requested: fraud v7', recipients: ['erin@example.com', 'frank@example.com'] });
    expect(governance).toMatchObject({ topic: GOVERNANCE, attributes: { modelPackageGroup: 'fraud' }, recipients: [] });

    await subscriptions.unsubscribe(arn);
    await notifier.publish({ topic: 'reviewers', subject: 's', message: 'm', attributes: { reviewer: 'frank@example.com' } });
    expect(sns.messages().at(-1)?.recipients).toEqual(['erin@example.com']);
  });

  it('answers awsQuery framing as SNS does: XML result, InvalidAction for an unknown action', async () => {
    const post = (body: string) => fetch(`${sns.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const ok = await post(`Action=CreateTopic&Version=2010-03-31&Name=${REVIEWERS}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await ok.text()).toMatch(
      new RegExp(
        `^<CreateTopicResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><CreateTopicResult><TopicArn>${reviewersArn}</TopicArn></CreateTopicResult><ResponseMetadata><RequestId>[0-9a-f-]{36}</RequestId></ResponseMetadata></CreateTopicResponse>$`,
      ),
    );
    const bad = await post('Action=DeleteEverything&Version=2010-03-31');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/<Error><Type>Sender<\/Type><Code>InvalidAction<\/Code><Message>The action DeleteEverything is not valid for this web service.<\/Message><\/Error>/);
  });

  it('numbering in the outbox continues after a restart (state does not: topics are pre-created again); messages() only holds what came since', async () => {
    const last = sns.messages().at(-1)?.seq ?? 0;
    const port = sns.port;
    await sns.close();
    sns = await start(port); // the same port, so the same client (AWS_ENDPOINT_URL_SNS) reaches it
    await client.send(new PublishCommand({ TopicArn: reviewersArn, Subject: 'after restart', Message: 'm' }));
    expect(sns.messages()).toHaveLength(1);
    expect(sns.messages()[0]).toMatchObject({ seq: last + 1, subject: 'after restart', subscriptions: 0 });
    const names = readdirSync(outbox).filter((n) => n.endsWith('.json')).sort();
    expect(names.at(-1)).toBe(`${String(last + 1).padStart(6, '0')}-${REVIEWERS}-all.json`);
    expect(names.map((n) => Number(n.slice(0, 6)))).toEqual(Array.from({ length: last + 1 }, (_, i) => i + 1));
  });
});
