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

/** An ordinary regression: the sequence shows no problem, no known issue tolerated. */
async function expectNoProblem(ops: Op[]): Promise<void> {
  const r = await runSequence(ops, { sources, base: join(base, 'sequences'), tolerate: [] });
  expect(r.problems, describeRun(r)).toEqual([]);
}

const mounts = canMount();

describe('fault-suite regressions', () => {
  it('importing a collection whose removal a dead process began finishes the removal and imports it anew', async () => {
    // Found by the fuzzer (seed 808, eleventh sequence): `albumen remove` killed
    // at in-removal:1 left the collection hidden, and importing it again was
    // refused ("being removed") until some `albumen run` finished the removal.
    await expectNoProblem([
      { op: 'import', collection: 3, wait: true },
      { op: 'remove', collection: 3, crashAt: 'in-removal:1' },
      { op: 'import', collection: 3, wait: true },
    ]);
  }, 120_000);

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

  it('albumen run waits for its start-up check, and remakes a missing output', async () => {
    // Found by the suite: run decided there was nothing to do before the check
    // had requeued the missing output, leaving its repair job running.
    await expectNoProblem([
      { op: 'import', collection: 0, wait: true },
      { op: 'delete-output', pick: 0, count: 1 },
    ]);
  }, 60_000);

  it('albumen run resumes a job paused for DISK_FULL once the folder has room', async () => {
    // Found by the suite: run found nothing runnable and exited. A folder past its
    // size limit is full without needing a mount.
    await expectNoProblem([
      { op: 'import', collection: 0, wait: true },
      { op: 'cache-limit', folder: 'default', size: '40K' },
      { op: 'import', collection: 1, wait: false },
      { op: 'run' },
    ]);
  }, 60_000);

  it('a kill mid-write, then a new cache folder, leaves no temporary or unrecorded file', async () => {
    // Found by the suite: adding a folder re-places collections, and start-up
    // recovery looked for the dead run's files only in the collection's new
    // folder, so the temporary and renamed-but-unrecorded files in the old one
    // stayed for good.
    for (const crashAt of ['after-temp-write:2', 'after-rename:2'] as const) {
      const r = await replay([
        { op: 'import', collection: 0, wait: true, crashAt },
        { op: 'cache-add' },
        { op: 'run' },
      ]);
      expect(r.problems, describeRun(r)).toEqual([]);
      expect(r.steps[0]).toContain(`died at ${crashAt}`);
    }
  }, 90_000);

  it.skipIf(!mounts)(
    'a data volume that fills while albumen run works makes it wait, and loses nothing',
    async () => {
      // Found by the fuzzer (seed 303, with --ops import,run,disk,control,delete-output):
      // the run waited, as it must, but the suite took the fault as switched off.
      await expectNoProblem([
        { op: 'import', collection: 1, wait: false },
        { op: 'import', collection: 0, wait: true },
        { op: 'import', collection: 1, wait: false },
        {
          op: 'run',
          during: [{ atMs: 214, action: { act: 'disk', fault: 'data-full', on: true } }],
        },
      ]);
    },
    60_000,
  );

  it.skipIf(!mounts)(
    'a read-only cache folder pauses its jobs and fails no valid photo',
    async () => {
      // Found by the suite: the photos failed NOT_FOUND (mkdir), IO_ERROR or
      // PERMISSION_DENIED, blamed for their disk.
      await expectNoProblem([
        { op: 'cache-add' },
        { op: 'import', collection: 0, wait: false },
        { op: 'disk', fault: 'cache-readonly', on: true },
        { op: 'run' },
      ]);
    },
    60_000,
  );
});
