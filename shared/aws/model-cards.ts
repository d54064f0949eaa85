import { CreateModelCardCommand, DescribeModelCardCommand, UpdateModelCardCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { ModelCards } from '../ports.js';

/**
 * DescribeModelCard answers a missing card with `ResourceNotFound` (the SDK's documented
 * exception); a ValidationException that says the card does not exist is treated alike.
 */
const isNotFound = (e: unknown): boolean =>
  e instanceof Error && (e.name === 'ResourceNotFound' || (e.name === 'ValidationException' && /not (be )?found|does not exist/i.test(e.message)));

/**
 * SageMaker Model Cards: DescribeModelCard, then UpdateModelCard (a new card version) when the card
 * exists or CreateModelCard when it does not. A ConflictException on create means another
 * invocation created it in between: the card is then updated.
 */
export function sageMakerModelCards(client: SageMakerClient): ModelCards {
  const update = async (args: { name: string; content: string; status: Parameters<ModelCards['upsert']>[0]['status'] }) => {
    await client.send(new UpdateModelCardCommand({ ModelCardName: args.name, Content: args.content, ModelCardStatus: args.status }));
    return 'updated' as const;
  };
  return {
    async upsert(args) {
      try {
        await client.send(new DescribeModelCardCommand({ ModelCardName: args.name }));
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
      return update(args);
    },
  };
}
