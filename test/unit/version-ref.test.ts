import { ValidationError } from '../../shared/domain/errors.js';
import { parseVersionRef } from '../../shared/usecases/lineage.js';

const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/3';
const problems = (payload: unknown): readonly string[] => {
  try {
    parseVersionRef(payload, 'getLineage request');
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    throw e;
  }
  return [];
};

describe('a version reference (getLineage, exportModelCard)', () => {
  it('reads an ARN or a group and version', () => {
    expect(parseVersionRef({ modelPackageArn: ARN }, 'x')).toEqual({ group: 'fraud-detector', version: 3 });
    expect(parseVersionRef({ modelPackageGroupName: 'fraud-detector', version: 3 }, 'x')).toEqual({ group: 'fraud-detector', version: 3 });
  });

  it.each([{}, null, [], 'fraud-detector/3', { group: 'fraud-detector' }])('says what to give for %j, not "Invalid input"', (payload) => {
    expect(problems(payload)).toEqual(['(root): give modelPackageArn, or modelPackageGroupName and version']);
  });

  it('names the field of the form that was meant', () => {
    expect(problems({ modelPackageArn: 'arn:aws:s3:::bucket' })).toEqual(['modelPackageArn: must be a versioned model package ARN']);
    expect(problems({ modelPackageGroupName: 'fraud-detector' })).toEqual([expect.stringMatching(/^version: /)]);
    expect(problems({ modelPackageGroupName: 'fraud-detector', version: 0 })).toEqual([expect.stringMatching(/^version: /)]);
    expect(problems({ modelPackageGroupName: 'fraud detector!', version: 1 })).toEqual(['modelPackageGroupName: must be a SageMaker model package group name']);
    expect(problems({ modelPackageArn: ARN, version: 3 })).toEqual(['(root): give modelPackageArn, or modelPackageGroupName and version, not both']);
  });
});
