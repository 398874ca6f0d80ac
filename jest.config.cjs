/**
 * Jest 30 + @swc/jest. middy 7 is ESM-only and exports only an `import` condition: jest-resolver.cjs
 * asks for it, and @middy is transformed to CommonJS with everything else.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/\.esbuild/', '/\.serverless/', '/\.local/'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  resolver: '<rootDir>/jest-resolver.cjs',
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60000,
  // One worker: the test files share one local stack (its emulator state and SES store).
  maxWorkers: 1,
};
