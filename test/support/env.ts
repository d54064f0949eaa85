// Runs before each test file (jest.config.js setupFiles). The functions publish CloudWatch metrics
// as EMF, one JSON line on stdout per invocation; in tests they would bury jest's own output.
// test/integration/metrics.test.ts turns them back on (before it imports shared/metrics.ts) and
// reads them. Someone who sets the variable keeps their value.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
