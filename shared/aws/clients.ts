import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SNSClient } from '@aws-sdk/client-sns';

/**
 * One client per AWS service per cold start, with the default configuration, so that AWS_REGION
 * and AWS_ENDPOINT_URL_<SERVICE> point them at local services without a code path of their own.
 * Created lazily: a function that never calls S3 never builds an S3 client.
 */
let dynamo: DynamoDBDocumentClient | undefined;
let sagemaker: SageMakerClient | undefined;
let sns: SNSClient | undefined;
let s3: S3Client | undefined;
let kms: KMSClient | undefined;

/** The document client's options, in one place: tests and scripts wrap their own DynamoDBClient with it. */
export const documentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

export const clients = {
  dynamo: () => (dynamo ??= documentClient(new DynamoDBClient({}))),
  sagemaker: () => (sagemaker ??= new SageMakerClient({})),
  sns: () => (sns ??= new SNSClient({})),
  // A custom S3 endpoint (a local stand-in on 127.0.0.1) cannot take the bucket as a host name,
  // so path-style addressing goes with it; on AWS the default (virtual-hosted style) stays.
  s3: () => (s3 ??= new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL) })),
  // Only the checkpoint signer uses KMS (and only off stage local).
  kms: () => (kms ??= new KMSClient({})),
};
