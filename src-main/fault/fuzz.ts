/**
 * The fault suite's fuzzer: more and longer sequences than `npm test` runs.
 *
 *   npm run fuzz -- --runs 50 [--seed S] [--length L] [--path P] [--ops import,run,…]
 *                   [--strict] [--no-mount] [--long-stops] [--replay FILE] [--verbose]
 *                   [--no-shrink] [--no-minimize]
 *
 * Prints the seed first; on a failure, the shrunk sequence as JSON and the
 * seed and path that replay it (`--seed S --path P`, or `--replay` with the
 * JSON saved to a file). Ends with figures: sequences, operations and faults
 * by kind, invariant checks passed, wall time.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { OP_KINDS, sequenceArb, type Op, type OpKind } from './ops.ts';
import { prepareSources } from './sandbox.ts';
import { canMount } from './sandbox.ts';
import { newFigures, runSequence, type Figures } from './world.ts';
import { KNOWN_ISSUES } from './known-issues.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    runs: { type: 'string', default: '10' },
    seed: { type: 'string' },
    path: { type: 'string' },
    length: { type: 'string', default: '12' },
    'min-length': { type: 'string', default: '3' },
    ops: { type: 'string' },
    strict: { type: 'boolean', default: false },
    'no-mount': { type: 'boolean', default: false },
    'long-stops': { type: 'boolean', default: false },
    replay: { type: 'string' },
    'time-limit': { type: 'string' },
    verbose: { type: 'boolean', default: false },
    'no-minimize': { type: 'boolean', default: false },
    /** Report the first failing sequence as it is, with no shrinking (quick, for timing bugs). */
    'no-shrink': { type: 'boolean', default: false },
  },
});

const started = Date.now();
const figures = newFigures();
const base = mkdtempSync(join(tmpdir(), 'albumen-fuzz-'));
const sources = await prepareSources(join(base, 'sources'));
const sandboxes = join(base, 'sequences');
mkdirSync(sandboxes, { recursive: true });
const tolerate = values.strict ? [] : KNOWN_ISSUES.map((k) => k.id);
const mount = !values['no-mount'];
const say = (s: string) => process.stdout.write(s + '\n');

if (mount && !canMount()) {
  say('note: cannot mount tmpfs here (not root?): full-disk and read-only faults are skipped');
}

let exitCode = 0;
try {
  if (values.replay) {
    const ops = JSON.parse(readFileSync(values.replay, 'utf8')) as Op[];
    const r = await runSequence(ops, {
      sources,
      base: sandboxes,
      mount,
      figures,
      tolerate,
      log: say,
    });
    if (r.problems.length) {
      exitCode = 1;
      say(`FAILED at step ${r.failedAt}:\n  ${r.problems.join('\n  ')}`);
    } else say('replay passed');
  } else {
    const kinds = values.ops?.split(',').map((s) => s.trim()) as OpKind[] | undefined;
    for (const k of kinds ?? []) {
      if (!OP_KINDS.includes(k))
        throw new Error(`unknown op kind ${k}; known: ${OP_KINDS.join(', ')}`);
    }
    const seed = values.seed ? Number(values.seed) : Date.now() ^ (Math.random() * 0x7fffffff);
    say(`seed ${seed}${values.path ? ` path ${values.path}` : ''}`);
    let lastFailure: { ops: Op[]; problems: string[]; steps: string[] } | null = null;
    let shrinking = false;
    const sequences = sequenceArb({
      collections: sources.length,
      kinds,
      longStops: values['long-stops'],
      minLength: Number(values['min-length']),
      maxLength: Number(values.length),
    });
    const property = fc.asyncProperty(
      values['no-shrink'] ? fc.noShrink(sequences) : sequences,
      async (ops) => {
        const r = await runSequence(ops, {
          sources,
          base: sandboxes,
          mount,
          figures,
          tolerate,
          log: values.verbose ? (l) => say(`    ${l}`) : undefined,
        });
        const tag = shrinking ? 'shrink' : `run ${figures.sequences}`;
        say(
          `${tag}: ${ops.length} ops ${r.problems.length ? `FAILED at step ${r.failedAt}` : 'ok'}`,
        );
        if (r.problems.length) {
          shrinking = true;
          // Steps after the failing one never ran: they are not part of the failure.
          const ran = ops.slice(0, (r.failedAt ?? ops.length) + 1);
          lastFailure = { ops: ran, problems: r.problems, steps: r.steps };
          if (values.verbose) for (const p of r.problems) say(`    ! ${p}`);
        }
        return r.problems.length === 0;
      },
    );
    const details = await fc.check(property, {
      numRuns: Number(values.runs),
      seed,
      path: values.path,
      endOnFailure: false,
      plugins: values['time-limit']
        ? [fc.interruptAfterTimeLimit(Number(values['time-limit']) * 1000)]
        : [],
    });
    if (details.failed) {
      exitCode = 1;
      const f = lastFailure as { ops: Op[]; problems: string[]; steps: string[] } | null;
      const shrunk = (details.counterexample as [Op[]] | null)?.[0] ?? [];
      const ops =
        f && JSON.stringify(shrunk.slice(0, f.ops.length)) === JSON.stringify(f.ops)
          ? f.ops
          : shrunk;
      say(
        `\nFAILURE found by sequence ${details.numRuns}, shrunk ${details.numShrinks} times by fast-check`,
      );
      say(`replay: npm run fuzz -- --seed ${details.seed} --path "${details.counterexamplePath}"`);
      say(`shrunk sequence (save as a file for --replay):\n${JSON.stringify(ops, null, 2)}`);
      if (f && JSON.stringify(f.ops) === JSON.stringify(ops)) {
        say(`steps:\n  ${f.steps.join('\n  ')}`);
        say(`problems:\n  ${f.problems.join('\n  ')}`);
      } else if (details.errorInstance instanceof Error) say(details.errorInstance.message);
      if (!values['no-minimize']) {
        // Timing makes some shrinks pass by luck (a kill landing before a crash
        // point): drop operations and optional faults one at a time, keeping
        // each removal that still fails.
        const min = await minimize(ops);
        if (min) {
          say(`\nminimized further to ${min.ops.length} operations:\n${JSON.stringify(min.ops)}`);
          say(`steps:\n  ${min.steps.join('\n  ')}`);
          say(`problems:\n  ${min.problems.join('\n  ')}`);
        }
      }
    }
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
printFigures(figures, Date.now() - started);
process.exitCode = exitCode;

/** Greedy one-at-a-time reduction of a failing sequence; null when nothing could go. */
async function minimize(
  ops: Op[],
): Promise<{ ops: Op[]; problems: string[]; steps: string[] } | null> {
  const fails = async (cand: Op[]) => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await runSequence(cand, { sources, base: sandboxes, mount, figures, tolerate });
      if (r.problems.length) return r;
    }
    return null;
  };
  const simpler = (op: Op): Op[] => {
    const out: Op[] = [];
    for (const key of ['killAtMs', 'during', 'crashAt', 'limit', 'wait'] as const) {
      if (!(key in op)) continue;
      const c = { ...op } as Record<string, unknown>;
      if (key === 'wait') {
        if (c.wait !== true || c.crashAt || c.killAtMs !== undefined || c.during) continue;
        c.wait = false;
      } else delete c[key];
      out.push(c as Op);
    }
    return out;
  };
  let best: { ops: Op[]; problems: string[]; steps: string[] } | null = null;
  let current = ops;
  for (let changed = true; changed;) {
    changed = false;
    for (let i = current.length - 1; i >= 0 && !changed; i--) {
      const cands = [
        current.filter((_, j) => j !== i),
        ...simpler(current[i]!).map((s) => current.map((o, j) => (j === i ? s : o))),
      ];
      for (const cand of cands) {
        const r = await fails(cand);
        say(`minimize: ${cand.length} ops ${r ? 'still fails' : 'passes'}`);
        if (r) {
          const ran = cand.slice(0, (r.failedAt ?? cand.length) + 1);
          best = { ops: ran, problems: r.problems, steps: r.steps };
          current = ran;
          changed = true;
          break;
        }
      }
    }
  }
  return best;
}

function printFigures(f: Figures, ms: number): void {
  const list = (m: Record<string, number>) =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `    ${k}: ${n}`)
      .join('\n') || '    none';
  const ops = Object.values(f.operations).reduce((a, b) => a + b, 0);
  const faults = Object.values(f.faults).reduce((a, b) => a + b, 0);
  say(`\nsequences run: ${f.sequences}`);
  say(`operations: ${ops}\n${list(f.operations)}`);
  say(`faults injected: ${faults}\n${list(f.faults)}`);
  if (Object.keys(f.skipped).length)
    say(`faults skipped (no privilege to mount):\n${list(f.skipped)}`);
  if (Object.keys(f.known).length) say(`known issues met (tolerated):\n${list(f.known)}`);
  say(
    `invariant checks passed: ${f.checksPassed} inspections, ${f.invariantsChecked} invariants checked`,
  );
  say(`wall time: ${(ms / 1000).toFixed(1)} s`);
}
