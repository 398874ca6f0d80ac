/**
 * The test environment of every file: Node's, with what the tests and the code under test write
 * (console, and the JSON log lines Powertools writes straight to stdout and stderr) kept out of the run's
 * output unless the test fails. A failing test (or hook) prints what it wrote, after its name.
 * Everything written is also appended to .local/test-logs/<file>.log, which the end-of-run scan
 * for customer data in logs reads (test/jest/pii-scan.ts).
 */
'use strict';
const { Console } = require('node:console');
const { appendFileSync, mkdirSync } = require('node:fs');
const { join, relative } = require('node:path');
const { Writable } = require('node:stream');
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
    const sink = new Writable({
      write: (chunk, _encoding, done) => {
        this.capture(chunk);
        done();
      },
    });
    this.global.console = new Console({ stdout: sink, stderr: sink });
    // Powertools' Logger and Metrics write JSON lines to process.stdout with their own Console:
    // the test context's process (a copy Jest makes) and, for code loaded outside it, the real one.
    // Tests that read those lines spy on process.stdout.write and restore this one after.
    const env = this;
    const capturedWrite = function capturedWrite(chunk, encoding, cb) {
      env.capture(chunk);
      const done = typeof encoding === 'function' ? encoding : cb;
      if (done) done();
      return true;
    };
    // Warnings and errors go to stderr the same way. (Jest's own reporter writes only between files
    // here, when these are restored; a failing test's output is printed with the saved write.)
    this.restores = [];
    this.stderrWrite = process.stderr.write.bind(process.stderr);
    for (const stream of new Set([process.stdout, process.stderr, this.global.process.stdout, this.global.process.stderr])) {
      const own = Object.prototype.hasOwnProperty.call(stream, 'write');
      const previous = stream.write;
      stream.write = capturedWrite;
      this.restores.push(() => (own ? (stream.write = previous) : delete stream.write));
    }
  }

  async teardown() {
    for (const restore of this.restores ?? []) restore();
    await super.teardown();
  }

  flush(title) {
    const text = this.buffer.join('');
    this.buffer = [];
    if (!text.trim()) return;
    this.stderrWrite(`\n──── output of ${this.rel} › ${title} ────\n${text}${text.endsWith('\n') ? '' : '\n'}────\n`);
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
