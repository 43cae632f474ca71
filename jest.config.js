// Two projects: `unit` (pure functions, no I/O, fast) and `integration` (*.int.test.ts,
// talk to the real local stack started by `npm run stack:up`).
const roots = ['<rootDir>/services', '<rootDir>/bridge', '<rootDir>/deploy', '<rootDir>/test'];
const common = {
  roots,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
  },
  // Tests import the sources of every package (never a possibly stale dist/).
  moduleNameMapper: {
    '^@tideway/runtime$': '<rootDir>/services/runtime/src/index.ts',
    '^@tideway/(cdc|dwh-loader|alerting|demo|kinesis-api)$': '<rootDir>/services/$1/src/main.ts',
    '^@tideway/bridge$': '<rootDir>/bridge/src/main.ts',
  },
  // Spawned services and worker threads run dist/: it is built before any test runs.
  globalSetup: '<rootDir>/test-support/build-before-tests.js',
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
};
module.exports = {
  // A hang guard, not a speed check: on a loaded 2-core machine a test against the stack can take
  // many seconds; files that need longer set their own. Jest reads it here only (a global option,
  // ignored inside a project).
  testTimeout: 120_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['**/test/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$', '/node_modules/'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['**/test/**/*.int.test.ts'],
      setupFiles: ['<rootDir>/test-support/load-stack-env.js'],
      slowTestThreshold: 60,
    },
  ],
};
