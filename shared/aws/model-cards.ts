import { CreateModelCardCommand, DescribeModelCardCommand, UpdateModelCardCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { ModelCards } from '../ports.js';

/**
 * DescribeModelCard answers a missing card with `ResourceNotFound` (the SDK's documented
 * exception); a ValidationException that says the card does not exist is treated alike.
 */
const isNotFound = (e: unknown): boolean =>
  e instanceof Error && (e.name === 'ResourceNotFound' || (e.name === 'ValidationException' && /not (be )?found|does not exist/i.test(e.message)));

/**
 * SageMaker Model Cards: DescribeModelCard, then CreateModelCard when the card does not exist, or
 * UpdateModelCard when it does. A ConflictException on create means another invocation created it
 * in between: the card is then updated.
 *
 * UpdateModelCard cannot change content and status in one call (API_UpdateModelCard.html: "You
 * cannot update both model card content and model card status in a single call"), so an update is
 * two calls: the content first, then the status. Each is sent only when it changes something
 * (DescribeModelCard says what the card holds), and a status call follows every content call, in
 * case SageMaker moves the status when the content changes. So a repeat of either call, or of the
 * whole upsert after one of them failed, is harmless: it converges on the same content and status.
 * Throttling and 5xx answers are retried by the SDK's standard retry strategy.
 */
export function sageMakerModelCards(client: SageMakerClient): ModelCards {
  type Args = Parameters<ModelCards['upsert']>[0];
  const update = async (args: Args, current?: { content?: string; status?: string }) => {
    const contentChanged = current?.content !== args.content;
    if (contentChanged) await client.send(new UpdateModelCardCommand({ ModelCardName: args.name, Content: args.content }));
    if (contentChanged || current?.status !== args.status) {
      await client.send(new UpdateModelCardCommand({ ModelCardName: args.name, ModelCardStatus: args.status }));
    }
    return 'updated' as const;
  };
  return {
    async upsert(args) {
      let current: { content?: string; status?: string };
      try {
        const described = await client.send(new DescribeModelCardCommand({ ModelCardName: args.name }));
        current = {
          ...(described.Content !== undefined ? { content: described.Content } : {}),
          ...(described.ModelCardStatus !== undefined ? { status: described.ModelCardStatus } : {}),
        };
      } catch (e) {
        if (!isNotFound(e)) throw e;
        try {
          await client.send(new CreateModelCardCommand({ ModelCardName: args.name, Content: args.content, ModelCardStatus: args.status }));
          return 'created';
        } catch (c) {
          if (c instanceof Error && c.name === 'ConflictException') return update(args);
          throw c;
        }
      }
      return update(args, current);
    },
  };
}
