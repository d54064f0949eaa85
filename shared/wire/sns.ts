import { snsClient } from '../aws/clients/sns.js';
import { snsNotifier, snsSubscriptions } from '../aws/sns.js';
import { config } from '../config.js';
import type { Notifier, Subscriptions } from '../ports.js';

let notifier: Notifier | undefined;
let subscriptions: Subscriptions | undefined;

/** The reviewers and governance topics (SNS). */
export const notifierPort = (): Notifier =>
  (notifier ??= snsNotifier(snsClient(), { reviewers: config().REVIEWERS_TOPIC_ARN, governance: config().GOVERNANCE_TOPIC_ARN }));

/** Reviewers' subscriptions on the reviewers topic (addReviewer, removeReviewer). */
export const subscriptionsPort = (): Subscriptions => (subscriptions ??= snsSubscriptions(snsClient(), config().REVIEWERS_TOPIC_ARN));
