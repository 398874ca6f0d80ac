/**
 * Jest 30 + @swc/jest. middy 7 is ESM-only and exports only an `import` condition: jest-resolver.cjs
 * asks for it, and @middy is transformed to CommonJS with everything else.
 *
 * Two projects: `unit` (files that need nothing running: `npx jest --selectProjects unit` starts
 * nothing) and `stack` (files that use the shared local stack, started once by its global setup).
 * A test file needs the stack when it uses @lead-intake/testkit or the stack's test ports; it is
 * sorted here by reading it, so there is no list to keep.
 */
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const roots = ['packages', 'services', 'local', 'tooling', 'test'];
const skip = new Set(['node_modules', '.esbuild', '.serverless', '.local']);
const walk = (dir) =>
  readdirSync(join(__dirname, dir), { withFileTypes: true }).flatMap((e) =>
    skip.has(e.name) ? [] : e.isDirectory() ? walk(`${dir}/${e.name}`) : e.name.endsWith('.test.ts') ? [`${dir}/${e.name}`] : [],
  );
const files = roots.flatMap(walk);
const needsStack = (f) =>
  /@lead-intake\/testkit|TEST_STACK|TEST_LOCAL_|jest\/stack-env|startLocalStack/.test(readFileSync(join(__dirname, f), 'utf8'));
const asMatch = (f) => `<rootDir>/${f}`;

const shared = {
  rootDir: __dirname,
  testEnvironment: '<rootDir>/test/jest/environment.cjs',
  roots: roots.map((r) => `<rootDir>/${r}`),
  testPathIgnorePatterns: ['/node_modules/', '/\\.esbuild/', '/\\.serverless/', '/\\.local/'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  resolver: '<rootDir>/jest-resolver.cjs',
};

module.exports = {
  testSequencer: '<rootDir>/test/jest/sequencer.cjs',
  testTimeout: 60000,
  // One worker: the stack's files share one local stack (its emulator state and SES store).
  maxWorkers: 1,
  projects: [
    { ...shared, displayName: 'unit', testMatch: files.filter((f) => !needsStack(f)).map(asMatch) },
    {
      ...shared,
      displayName: 'stack',
      testMatch: files.filter(needsStack).map(asMatch),
      globalSetup: '<rootDir>/test/jest/global-setup.ts',
      globalTeardown: '<rootDir>/test/jest/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/jest/reset-stack.ts'],
    },
  ],
};
