import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from '../../tracer.js';

/** The document client's options, in one place: tests and scripts wrap their own DynamoDBClient with it. */
export const documentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

let dynamo: DynamoDBDocumentClient | undefined;

/** The DynamoDB document client, built on first use (traced: the base client is captured before it is wrapped). */
export const dynamoClient = (): DynamoDBDocumentClient => (dynamo ??= documentClient(tracer.captureAWSv3Client(new DynamoDBClient({}))));
