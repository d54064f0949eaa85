import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notifier } from '../ports.js';

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
