import { beforeEach, describe, expect, it } from 'vitest';
import type {
  ApiResult,
  CollectionView,
  CommandName,
  CommandParams,
  CommandValue,
} from '../../src-shared/api.ts';
import { setBridge } from '../api/bridge.ts';
import type { ClientBridge } from '../api/client.ts';
import { useAppStore } from '../store/index.ts';
import type { FailedList } from '../store/jobs-slice.ts';
import { jobCommand } from './jobs-actions.ts';

/** What the fake core answers, per command (a command with no answer fails the test). */
type Answers = { [K in CommandName]?: (p: CommandParams<K>) => ApiResult<CommandValue<K>> };

let answers: Answers;
let sent: { command: CommandName; params: unknown }[];

/**
 * The bridge is the renderer's edge (IPC or WebSocket to the core): faked
 * here, typed by the contract, recording what the actions send.
 */
const bridge: ClientBridge = {
  platform: 'browser',
  connection: { state: 'open', everOpened: true, attempt: 0, retryAt: null },
  call<K extends CommandName>(command: K, params: CommandParams<K>) {
    sent.push({ command, params });
    const answer = answers[command];
    if (!answer) throw new Error(`unexpected ${command}`);
    return Promise.resolve(answer(params));
  },
  onEvent: () => () => {},
  mediaUrl: () => '',
  pathForFile: () => null,
  onConnection: () => () => {},
  retryConnection: () => {},
};

const collection: CollectionView = {
  id: 4,
  name: 'photos',
  kind: 'folder',
  root: '/photos',
  imageCount: 3,
  job: { id: 7, status: 'queued', progress: 0, failed: 0 },
  offlineSince: null,
  lastSeenAt: null,
  watch: null,
  watched: true,
  watchState: 'watching',
  watchDetail: null,
};

const list = (n: number): FailedList => ({
  items: [],
  loading: false,
  hasMore: false,
  loadedForFailed: n,
});

/** Lets the actions' fire-and-forget follow-ups (loadCollections) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

beforeEach(() => {
  useAppStore.setState(useAppStore.getInitialState(), true);
  answers = {};
  sent = [];
  setBridge(bridge);
  useAppStore.getState().setFailedList(7, list(2));
  useAppStore.getState().setFailedList(8, list(5));
  useAppStore.getState().setCollections([collection]);
});

describe('the retry action', () => {
  it('retries the job it was given, then forgets that job’s failed list and reloads the library', async () => {
    answers.retryJob = () => ({ ok: true, value: 2 });
    // The library comes back without the collection (say it was removed meanwhile).
    answers.listCollections = () => ({ ok: true, value: [] });
    await jobCommand('retryJob', 7);
    await settle();
    expect(sent).toEqual([
      { command: 'retryJob', params: { jobId: 7 } },
      { command: 'listCollections', params: {} },
    ]);
    const s = useAppStore.getState();
    // The retried job's list is stale (its items are queued again); another job's is not.
    expect(s.failedLists[7]).toBeUndefined();
    expect(s.failedLists[8]).toEqual(list(5));
    expect(s.collections).toEqual([]);
    expect(s.toasts).toEqual([]);
  });

  it('reports a refused retry as a toast, and changes nothing else', async () => {
    answers.retryJob = ({ jobId }) => ({
      ok: false,
      error: { code: 'NOT_FOUND', message: `no job ${jobId}` },
    });
    await jobCommand('retryJob', 7);
    await settle();
    expect(sent).toEqual([{ command: 'retryJob', params: { jobId: 7 } }]);
    const s = useAppStore.getState();
    expect(s.toasts).toMatchObject([
      { level: 'error', title: 'Retry failed · NOT_FOUND', message: 'no job 7' },
    ]);
    expect(s.failedLists[7]).toEqual(list(2));
  });

  it('reports a lost connection the same way', async () => {
    answers.retryJob = () => ({
      ok: false,
      error: {
        code: 'IO_ERROR',
        message: 'lost connection to Albumen (retryJob may not have finished)',
      },
    });
    await jobCommand('retryJob', 8);
    const toasts = useAppStore.getState().toasts;
    expect(toasts.map((t) => t.title)).toEqual(['Retry failed · IO_ERROR']);
    expect(toasts[0]!.message).toContain('lost connection');
    expect(useAppStore.getState().failedLists[8]).toEqual(list(5));
  });
});

describe('the other job commands', () => {
  it.each(['pauseJob', 'resumeJob', 'cancelJob'] as const)(
    '%s sends the job id and leaves the failed list alone',
    async (command) => {
      answers[command] = () => ({ ok: true, value: true });
      await jobCommand(command, 8);
      await settle();
      expect(sent).toEqual([{ command, params: { jobId: 8 } }]);
      expect(useAppStore.getState().failedLists[8]).toEqual(list(5));
    },
  );

  it('names the command in the toast of a refusal', async () => {
    answers.cancelJob = () => ({
      ok: false,
      error: { code: 'INVALID_INPUT', message: 'cancelJob: jobId must be a positive whole number' },
    });
    await jobCommand('cancelJob', 8);
    expect(useAppStore.getState().toasts).toMatchObject([
      { title: 'Cancel failed · INVALID_INPUT' },
    ]);
  });
});
