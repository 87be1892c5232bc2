/**
 * The fault suite's operations: what users and crashes do to a data folder,
 * as plain JSON data. A sequence of them is what fast-check generates and
 * shrinks, what the fuzzer prints, and what a regression test replays. Every
 * reference (a job, an output file, a collection) is an index taken modulo
 * what exists at that moment, so any sub-sequence still means something.
 */
import fc from 'fast-check';
import type { CrashPoint } from '../../src-shared/crash-points.ts';

/** `point:N`: the process dies by SIGKILL the N-th time it passes the point. */
export type CrashAt = `${CrashPoint}:${number}`;

export type ControlCommand = 'pause' | 'resume' | 'cancel' | 'retry';

/** A fault condition of a disk, switched on or off. */
export type DiskFault = 'cache-full' | 'cache-readonly' | 'data-full';

/** What can happen while a processing command runs. */
export type Action =
  | { act: 'control'; command: ControlCommand; job: number }
  | { act: 'delete-output'; pick: number }
  | { act: 'stop-host'; ms: number }
  | { act: 'reconcile' }
  | { act: 'import'; collection: number }
  | { act: 'disk'; fault: DiskFault; on: boolean }
  /** Changes a photo on disk (see the `edit` operation). */
  | { act: 'edit'; collection: number; change: SourceChange; pick: number }
  /** A folder collection's root goes away (an unplugged drive) or comes back. */
  | { act: 'unplug'; collection: number; on: boolean };

export interface Timed {
  /** Milliseconds after the command started. */
  atMs: number;
  action: Action;
}

export type Op =
  /** `albumen import PATH [--wait]`. */
  | {
      op: 'import';
      collection: number;
      wait: boolean;
      crashAt?: CrashAt;
      killAtMs?: number;
      during?: Timed[];
    }
  /** `albumen run`, with things happening while it runs, maybe killed. */
  | { op: 'run'; crashAt?: CrashAt; killAtMs?: number; during?: Timed[] }
  | { op: 'control'; command: ControlCommand; job: number }
  /** Deletes output files behind the app's back. */
  | { op: 'delete-output'; pick: number; count: number }
  | { op: 'reconcile'; crashAt?: CrashAt; killAtMs?: number }
  /** A settings change through a short-lived core (no CLI process runs then). */
  | { op: 'settings'; patch: SettingsChange }
  | { op: 'regenerate' }
  | { op: 'cache-add'; limit?: string }
  | { op: 'cache-remove'; moveTo: boolean }
  | { op: 'cache-limit'; folder: 'default' | 'extra'; size: string }
  | { op: 'disk'; fault: DiskFault; on: boolean }
  /** Changes a folder collection's files behind the app's back, as a user does. */
  | { op: 'edit'; collection: number; change: SourceChange; pick: number }
  /** `albumen rescan --wait`, maybe killed. */
  | { op: 'rescan'; crashAt?: CrashAt; killAtMs?: number }
  /** `albumen remove ROOT`, maybe killed at one of the removal's crash points. */
  | { op: 'remove'; collection: number; crashAt?: CrashAt }
  /** A folder collection's root goes away (renamed: an unplugged drive) or comes back. */
  | { op: 'unplug'; collection: number; on: boolean }
  /**
   * `albumen serve` runs (it watches the collections) while photos change and
   * roots go and come; the library must follow by itself. Stopped with SIGINT,
   * or killed.
   */
  | { op: 'watch'; during: Timed[]; kill: boolean };

/** What a user does to a photo on disk. */
/** `move-across` moves a photo into another folder source (another collection). */
export type SourceChange = 'add' | 'delete' | 'modify' | 'move' | 'rename' | 'move-across';

export type OpKind = Op['op'];

export const SETTINGS_CHANGES = {
  'thumb-small': { render: { thumbnail: { maxWidth: 160, maxHeight: 160 } } },
  'thumb-webp': { render: { thumbnail: { format: 'webp' } } },
  'cache-small': { render: { cache: { maxWidth: 256, maxHeight: 192 } } },
  'cache-quality': { render: { cache: { quality: 70 } } },
  'one-worker': { workers: 1 },
  'two-workers': { workers: 2 },
  'short-timeout': { limits: { timeoutSeconds: 1 } },
  /** Watching off library-wide: a serve session then follows nothing by itself. */
  'no-watch': { watchFolders: false },
  defaults: {
    render: {
      thumbnail: { maxWidth: 300, maxHeight: 300, format: 'jpeg', quality: 80 },
      cache: { maxWidth: 1920, maxHeight: 1080, format: 'jpeg', quality: 85 },
    },
    workers: 0,
    limits: { timeoutSeconds: 60 },
    watchFolders: true,
  },
} as const;
export type SettingsChange = keyof typeof SETTINGS_CHANGES;

export interface OpOptions {
  /** Number of collections the sources hold. */
  collections: number;
  /** Only these kinds of operations (default: all). */
  kinds?: readonly OpKind[];
  /** Stops of the render host longer than its watchdog (expensive: about 12 s each). */
  longStops?: boolean;
}

const crashPoints: fc.Arbitrary<CrashAt> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('after-temp-write', 'after-rename', 'in-transaction'),
      fc.integer({ min: 1, max: 16 }),
    )
    .map(([p, n]) => `${p}:${n}` as CrashAt),
  fc.integer({ min: 1, max: 2 }).map((n) => `mid-scan-batch:${n}` as CrashAt),
  fc.integer({ min: 1, max: 3 }).map((n) => `between-drop-and-requeue:${n}` as CrashAt),
);

const controls = fc.constantFrom<ControlCommand>('pause', 'resume', 'cancel', 'retry');
const diskFaults = fc.constantFrom<DiskFault>('cache-full', 'cache-readonly', 'data-full');

function actions(o: OpOptions): fc.Arbitrary<Action> {
  const stopMs = o.longStops
    ? fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 100, max: 2000 }) },
        { weight: 1, arbitrary: fc.constant(12_500) },
      )
    : fc.integer({ min: 100, max: 2000 });
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ act: fc.constant('control'), command: controls, job: fc.nat(7) }),
    },
    { weight: 2, arbitrary: fc.record({ act: fc.constant('delete-output'), pick: fc.nat(99) }) },
    { weight: 2, arbitrary: fc.record({ act: fc.constant('stop-host'), ms: stopMs }) },
    { weight: 1, arbitrary: fc.record({ act: fc.constant('reconcile') }) },
    {
      weight: 1,
      arbitrary: fc.record({
        act: fc.constant('import'),
        collection: fc.nat(o.collections - 1),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ act: fc.constant('disk'), fault: diskFaults, on: fc.boolean() }),
    },
    ...(o.kinds && !o.kinds.includes('unplug') ? [] : [{ weight: 1, arbitrary: unplugAct(o) }]),
  );
}

function unplugAct(o: OpOptions): fc.Arbitrary<Action> {
  return fc.record({
    act: fc.constant('unplug' as const),
    collection: fc.nat(o.collections - 1),
    on: fc.boolean(),
  });
}

/** What happens while `albumen serve` watches: photos change, roots go and come. */
function watched(o: OpOptions): fc.Arbitrary<Timed[]> {
  const action: fc.Arbitrary<Action> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        act: fc.constant('edit' as const),
        collection: fc.nat(o.collections - 1),
        change: sourceChanges,
        pick: fc.nat(99),
      }),
    },
    { weight: 1, arbitrary: unplugAct(o) },
  );
  return fc
    .array(fc.record({ atMs: fc.integer({ min: 300, max: 2500 }), action }), {
      minLength: 1,
      maxLength: 4,
    })
    .map((list) => [...list].sort((a, b) => a.atMs - b.atMs));
}

const sourceChanges = fc.constantFrom<SourceChange>(
  'add',
  'delete',
  'modify',
  'move',
  'rename',
  'move-across',
);

function during(o: OpOptions): fc.Arbitrary<Timed[]> {
  return fc
    .array(fc.record({ atMs: fc.integer({ min: 0, max: 1200 }), action: actions(o) }), {
      minLength: 1,
      maxLength: 3,
    })
    .map((list) => [...list].sort((a, b) => a.atMs - b.atMs));
}

/** An optional key: present once in `oneIn` (absent shrinks best, so it comes first). */
function maybe<T>(arb: fc.Arbitrary<T>, oneIn = 2): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { weight: oneIn - 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: arb },
  );
}

function strip<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

const killMs = fc.integer({ min: 150, max: 1500 });

/** One operation, weighted towards the ones that make and break outputs. */
export function opArb(o: OpOptions): fc.Arbitrary<Op> {
  const all: { kind: OpKind; weight: number; arbitrary: fc.Arbitrary<Op> }[] = [
    {
      kind: 'import',
      weight: 4,
      arbitrary: fc.oneof(
        fc.record({
          op: fc.constant('import' as const),
          collection: fc.nat(o.collections - 1),
          wait: fc.constant(false),
        }),
        fc
          .record({
            op: fc.constant('import' as const),
            collection: fc.nat(o.collections - 1),
            wait: fc.constant(true),
            crashAt: maybe(crashPoints, 2),
            killAtMs: maybe(killMs, 3),
            during: maybe(during(o), 3),
          })
          .map(strip),
      ),
    },
    {
      kind: 'run',
      weight: 5,
      arbitrary: fc
        .record({
          op: fc.constant('run' as const),
          crashAt: maybe(crashPoints, 2),
          killAtMs: maybe(killMs, 3),
          during: maybe(during(o), 2),
        })
        .map(strip),
    },
    {
      kind: 'control',
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('control' as const),
        command: controls,
        job: fc.nat(7),
      }),
    },
    {
      kind: 'delete-output',
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('delete-output' as const),
        pick: fc.nat(99),
        count: fc.integer({ min: 1, max: 3 }),
      }),
    },
    {
      kind: 'reconcile',
      weight: 3,
      arbitrary: fc
        .record({
          op: fc.constant('reconcile' as const),
          crashAt: maybe(
            fc.integer({ min: 1, max: 3 }).map((n) => `between-drop-and-requeue:${n}` as CrashAt),
            2,
          ),
          killAtMs: maybe(fc.integer({ min: 100, max: 800 }), 4),
        })
        .map(strip),
    },
    {
      kind: 'edit',
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('edit' as const),
        collection: fc.nat(o.collections - 1),
        change: sourceChanges,
        pick: fc.nat(99),
      }),
    },
    {
      kind: 'rescan',
      weight: 2,
      arbitrary: fc
        .record({
          op: fc.constant('rescan' as const),
          crashAt: maybe(crashPoints, 3),
          killAtMs: maybe(killMs, 4),
        })
        .map(strip),
    },
    {
      kind: 'remove',
      weight: 1,
      arbitrary: fc
        .record({
          op: fc.constant('remove' as const),
          collection: fc.nat(o.collections - 1),
          crashAt: maybe(
            fc.oneof(
              fc.integer({ min: 1, max: 2 }).map((n) => `in-removal:${n}` as CrashAt),
              fc.integer({ min: 1, max: 6 }).map((n) => `mid-file-deletion:${n}` as CrashAt),
            ),
            2,
          ),
        })
        .map(strip),
    },
    {
      kind: 'unplug',
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('unplug' as const),
        collection: fc.nat(o.collections - 1),
        on: fc.boolean(),
      }),
    },
    {
      kind: 'watch',
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('watch' as const),
        during: watched(o),
        kill: fc.oneof(
          { weight: 3, arbitrary: fc.constant(false) },
          { weight: 1, arbitrary: fc.constant(true) },
        ),
      }),
    },
    {
      kind: 'settings',
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('settings' as const),
        patch: fc.constantFrom(...(Object.keys(SETTINGS_CHANGES) as SettingsChange[])),
      }),
    },
    { kind: 'regenerate', weight: 1, arbitrary: fc.constant({ op: 'regenerate' as const }) },
    {
      kind: 'cache-add',
      weight: 2,
      arbitrary: fc
        .record({
          op: fc.constant('cache-add' as const),
          limit: maybe(fc.constantFrom('40K', '10M'), 3),
        })
        .map(strip),
    },
    {
      kind: 'cache-remove',
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('cache-remove' as const), moveTo: fc.boolean() }),
    },
    {
      kind: 'cache-limit',
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('cache-limit' as const),
        folder: fc.constantFrom('default' as const, 'extra' as const),
        size: fc.constantFrom('40K', '10M', 'none'),
      }),
    },
    {
      kind: 'disk',
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('disk' as const),
        fault: diskFaults,
        on: fc.boolean(),
      }),
    },
  ];
  const chosen = all.filter((a) => !o.kinds || o.kinds.includes(a.kind));
  if (!chosen.length) throw new Error('no operation kind left to generate');
  return fc.oneof(...chosen.map(({ weight, arbitrary }) => ({ weight, arbitrary })));
}

/**
 * A sequence of operations. It opens with an import of some collection (which
 * shrinks to a plain queued import), so that most sequences have work to break.
 */
export function sequenceArb(
  o: OpOptions & { minLength: number; maxLength: number },
): fc.Arbitrary<Op[]> {
  const first = fc
    .record({ collection: fc.nat(o.collections - 1), wait: fc.boolean() })
    .map(({ collection, wait }): Op => ({ op: 'import', collection, wait }));
  const rest = fc.array(opArb(o), {
    minLength: Math.max(0, o.minLength - 1),
    maxLength: Math.max(0, o.maxLength - 1),
  });
  return fc.tuple(first, rest).map(([f, r]) => [f, ...r]);
}

export const OP_KINDS: readonly OpKind[] = [
  'import',
  'run',
  'control',
  'delete-output',
  'reconcile',
  'settings',
  'regenerate',
  'cache-add',
  'cache-remove',
  'cache-limit',
  'disk',
  'edit',
  'rescan',
  'remove',
  'unplug',
  'watch',
];

/** One line per operation, for logs and reports. */
export function describeOp(op: Op): string {
  return JSON.stringify(op);
}
