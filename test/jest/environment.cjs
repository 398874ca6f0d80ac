/**
 * The test environment of every file: Node's, with what the tests and the code under test write
 * (console, and the JSON log lines Powertools writes straight to stdout) kept out of the run's
 * output unless the test fails. A failing test (or hook) prints what it wrote, after its name.
 * Everything written is also appended to .local/test-logs/<file>.log, which the end-of-run scan
 * for customer data in logs reads (test/jest/pii-scan.ts).
 */
'use strict';
const { Console } = require('node:console');
const { appendFileSync, mkdirSync } = require('node:fs');
const { join, relative } = require('node:path');
const { TestEnvironment } = require('jest-environment-node');

const ROOT = join(__dirname, '..', '..');
const LOG_DIR = join(ROOT, '.local', 'test-logs');

class QuietEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.rel = relative(ROOT, context.testPath);
    this.logFile = join(LOG_DIR, `${this.rel.replace(/[\\/]/g, '__')}.log`);
    this.buffer = [];
  }

  capture(chunk) {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    this.buffer.push(text);
    try {
      appendFileSync(this.logFile, text);
    } catch {
      /* the log copy is best effort; the buffer still holds it */
    }
  }

  async setup() {
    await super.setup();
    mkdirSync(LOG_DIR, { recursive: true });
    appendFileSync(this.logFile, '');
    const sink = { write: (chunk) => (this.capture(chunk), true) };
    this.global.console = new Console({ stdout: sink, stderr: sink });
    // Powertools' Logger and Metrics write JSON lines to process.stdout with their own Console.
    // Tests that read those lines spy on process.stdout.write and restore this one after.
    this.realWrite = process.stdout.write;
    const env = this;
    process.stdout.write = function capturedWrite(chunk, encoding, cb) {
      env.capture(chunk);
      const done = typeof encoding === 'function' ? encoding : cb;
      if (done) done();
      return true;
    };
  }

  async teardown() {
    if (this.realWrite) process.stdout.write = this.realWrite;
    await super.teardown();
  }

  flush(title) {
    const text = this.buffer.join('');
    this.buffer = [];
    if (!text.trim()) return;
    process.stderr.write(`\n──── output of ${this.rel} › ${title} ────\n${text}${text.endsWith('\n') ? '' : '\n'}────\n`);
  }

  handleTestEvent(event) {
    if (event.name === 'test_start') this.buffer = [];
    else if (event.name === 'test_done') {
      if (event.test.errors.length) this.flush(fullName(event.test));
      else this.buffer = [];
    } else if (event.name === 'hook_failure') this.flush(`${event.hook.type} hook`);
  }
}

function fullName(test) {
  const parts = [];
  for (let t = test; t && t.name !== 'ROOT_DESCRIBE_BLOCK'; t = t.parent) parts.unshift(t.name);
  return parts.join(' › ');
}

module.exports = QuietEnvironment;
