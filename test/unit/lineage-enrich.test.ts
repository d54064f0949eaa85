import { enrichJob, trainingJobFromDetail, type TrainingJob } from '../../shared/domain/lineage.js';
import { TrainingJobStateChangeSchema } from '../../shared/schemas/events.js';
import { loadEvent } from './fixtures.js';

const TRAINER = 'arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-xxxx/ml-lead';
const completed = (): TrainingJob => trainingJobFromDetail(TrainingJobStateChangeSchema.parse(loadEvent('training-job-completed.json')).detail, { 'validation:auc': 0.912 });

describe('enrichJob (a later observation of a recorded job)', () => {
  it('adds nothing when the observation holds nothing new', () => {
    const job = completed();
    expect(enrichJob(job, { ...job, lastModified: job.lastModified - 1000 })).toBeUndefined();
  });

  it('adds the tags the record lacks, and trainedBy from the Studio user tag', () => {
    const recorded = { ...completed(), tags: { team: 'fraud-ml' } };
    const observed = { ...completed(), tags: { team: 'other', 'cost-center': 'cc-4711', 'sagemaker:user-profile-arn': TRAINER }, trainedBy: TRAINER };

    const e = enrichJob(recorded, observed);

    expect(e?.added).toEqual({ tags: ['cost-center', 'sagemaker:user-profile-arn'], hyperparameters: [], datasets: [], fields: ['trainedBy'] });
    // A recorded fact stays: team keeps its recorded value.
    expect(e?.job.tags).toEqual({ team: 'fraud-ml', 'cost-center': 'cc-4711', 'sagemaker:user-profile-arn': TRAINER });
    expect(e?.job.trainedBy).toBe(TRAINER);
    expect(recorded.tags).toEqual({ team: 'fraud-ml' }); // the input is not changed
  });

  it('adds a tag or hyperparameter named __proto__ as an own entry, touching no prototype', () => {
    const recorded = { ...completed(), tags: {}, hyperparameters: {} };
    const proto = JSON.parse('{"__proto__": "x", "constructor": "y"}') as Record<string, string>;

    const e = enrichJob(recorded, { ...completed(), tags: proto, hyperparameters: proto });

    expect(Object.entries(e?.job.tags ?? {})).toEqual([['__proto__', 'x'], ['constructor', 'y']]);
    expect(Object.entries(e?.job.hyperparameters ?? {})).toEqual([['__proto__', 'x'], ['constructor', 'y']]);
    expect(Object.getPrototypeOf(e?.job.tags)).toBe(Object.prototype);
    expect(e?.added.tags).toEqual(['__proto__', 'constructor']);
  });

  it('never overwrites: a recorded trainedBy, image, metrics and state stay', () => {
    const recorded = { ...completed(), trainedBy: 'arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-xxxx/first', tags: {} };
    const observed = { ...completed(), image: 'another-image', metrics: {}, lastModified: 1, status: 'Completed', trainedBy: TRAINER, tags: { 'sagemaker:user-profile-arn': TRAINER } };

    const e = enrichJob(recorded, observed);

    expect(e?.job).toMatchObject({ trainedBy: recorded.trainedBy, image: recorded.image, metrics: { 'validation:auc': 0.912 }, lastModified: recorded.lastModified });
    expect(e?.added.fields).toEqual([]);
  });

  it('takes an end time and a failure reason only from an observation of the same state', () => {
    const { endedAt: _e, ...recorded } = completed();
    expect(enrichJob(recorded, { ...completed(), status: 'Failed', failureReason: 'boom' })).toBeUndefined();
    expect(enrichJob(recorded, completed())?.added.fields).toEqual(['endedAt']);
  });
});
