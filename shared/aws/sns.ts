import { PublishCommand, SubscribeCommand, UnsubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notifier, Subscriptions } from '../ports.js';

export function snsNotifier(client: SNSClient, topics: { reviewers: string; governance: string }): Notifier {
  return {
    async publish({ topic, subject, message, attributes }) {
      await client.send(
        new PublishCommand({
          TopicArn: topics[topic],
          Subject: subject,
          Message: message,
          // A subscription's filter policy on `reviewer` delivers each reviewer only their own message.
          MessageAttributes: Object.fromEntries(
            Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
          ),
        }),
      );
    },
  };
}

/**
 * One email subscription per reviewer on the reviewers topic. Its filter policy on the message
 * attribute `reviewer` delivers each reviewer their own messages only. SNS answers a repeated
 * Subscribe with the existing subscription, so adding a reviewer twice is harmless.
 */
export function snsSubscriptions(client: SNSClient, reviewersTopicArn: string): Subscriptions {
  return {
    async subscribe(email) {
      const out = await client.send(
        new SubscribeCommand({
          TopicArn: reviewersTopicArn,
          Protocol: 'email',
          Endpoint: email,
          Attributes: { FilterPolicy: JSON.stringify({ reviewer: [email] }), FilterPolicyScope: 'MessageAttributes' },
          ReturnSubscriptionArn: true,
        }),
      );
      if (!out.SubscriptionArn) throw new Error('SNS returned no subscription ARN');
      return out.SubscriptionArn;
    },
    async unsubscribe(subscriptionArn) {
      await client.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }));
    },
  };
}
