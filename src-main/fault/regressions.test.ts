/**
 * Sequences the fault suite found, shrunk, replayed as ordinary tests.
 *
 * A fixed bug's sequence must pass (no problem at all). A known issue that is
 * not fixed yet (see known-issues.ts) is pinned the other way: its sequence
 * must show that issue and nothing else, so that the day it is fixed this test
 * fails and says so; then it becomes an ordinary regression (expect no
 * problem) and its entry leaves KNOWN_ISSUES.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Op } from './ops.ts';
import { canMount, prepareSources, type Source } from './sandbox.ts';
import { runSequence, type SequenceResult } from './world.ts';
import { KNOWN_ISSUES } from './known-issues.ts';

let base = '';
let sources: Source[] = [];

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'albumen-regress-'));
  sources = await prepareSources(join(base, 'sources'));
  mkdirSync(join(base, 'sequences'));
});

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

/** Runs a sequence, tolerating every known issue except `except`. */
function replay(ops: Op[], except?: string): Promise<SequenceResult> {
  return runSequence(ops, {
    sources,
    base: join(base, 'sequences'),
    tolerate: KNOWN_ISSUES.map((k) => k.id).filter((id) => id !== except),
  });
}

function describeRun(r: SequenceResult): string {
  return `problems:\n  ${r.problems.join('\n  ')}\nsteps:\n  ${r.steps.join('\n  ')}`;
}

/** The sequence still shows the known issue, and only it. */
async function expectKnownIssue(id: string, ops: Op[]): Promise<void> {
  const issue = KNOWN_ISSUES.find((k) => k.id === id);
  if (!issue) throw new Error(`no known issue ${id}`);
  const r = await replay(ops, id);
  expect(
    r.problems.length,
    `known issue ${id} no longer shows: if it is fixed, make this an ordinary regression ` +
      `(expect no problem) and remove it from KNOWN_ISSUES\n${describeRun(r)}`,
  ).toBeGreaterThan(0);
  expect(
    r.problems.filter((p) => !issue.matches(p)),
    describeRun(r),
  ).toEqual([]);
}

const mounts = canMount();

describe('fault-suite regressions', () => {
  it('a kill between dropping a missing output and requeueing its item loses nothing', async () => {
    // Found by the fuzzer against the old two-transaction dropAndRequeue (seed 7,
    // second sequence, with --ops import,run,delete-output,reconcile): the kill
    // left the output's row dropped and its item done, and nothing remade it.
    const r = await replay([
      { op: 'import', collection: 0, wait: true },
      { op: 'delete-output', pick: 0, count: 1 },
      { op: 'reconcile', crashAt: 'between-drop-and-requeue:1' },
    ]);
    expect(r.problems, describeRun(r)).toEqual([]);
    expect(r.steps[2]).toContain('died at between-drop-and-requeue:1');
  }, 60_000);

  it('known: albumen run exits before its start-up check requeues a missing output', async () => {
    await expectKnownIssue('run-exits-before-output-check', [
      { op: 'import', collection: 0, wait: true },
      { op: 'delete-output', pick: 0, count: 1 },
    ]);
  }, 60_000);

  it('known: a job paused for DISK_FULL is never resumed by albumen run', async () => {
    // A folder past its size limit is full without needing a mount.
    await expectKnownIssue('disk-full-pause-outlives-run', [
      { op: 'import', collection: 0, wait: true },
      { op: 'cache-limit', folder: 'default', size: '40K' },
      { op: 'import', collection: 1, wait: false },
      { op: 'run' },
    ]);
  }, 60_000);

  it.skipIf(!mounts)(
    'known: a read-only cache folder fails the valid photos placed there',
    async () => {
      await expectKnownIssue('read-only-cache-fails-images', [
        { op: 'cache-add' },
        { op: 'import', collection: 0, wait: false },
        { op: 'disk', fault: 'cache-readonly', on: true },
        { op: 'run' },
      ]);
    },
    60_000,
  );
});
