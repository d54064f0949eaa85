// jest runs TypeScript as ESM (Middy 6 is ESM-only), through ts-jest and --experimental-vm-modules.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  moduleNameMapper: {
    '^#shared/(.*)\\.js$': '<rootDir>/shared/$1',
    '^#domain/(.*)\\.js$': '<rootDir>/shared/domain/$1',
    '^#store/(.*)\\.js$': '<rootDir>/shared/store/$1',
    '^#aws/(.*)\\.js$': '<rootDir>/shared/aws/$1',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Before each test file: no EMF lines from the functions in the test output (test/support/env.ts).
  setupFiles: ['<rootDir>/test/support/env.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // Generous: the CI machine runs two test files at once on 2 cores, and a file that shares
  // DynamoDB Local with the fuzz test runs up to 10x slower than alone (sequencer.test.ts took
  // 155 s there, 15 s alone). A timeout is a hang detector here, not a speed assertion.
  testTimeout: 120000,
};
