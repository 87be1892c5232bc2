import { appendFileSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One log line, as written to the log file and sent to the UI. */
export interface LogEntry {
  time: number;
  level: LogLevel;
  message: string;
}

/** Where the core writes what happens; every background error goes here. */
export interface Logger {
  log(level: LogLevel, message: string): void;
}

/**
 * A logger that appends to a file and fans out to listeners (the UI, the CLI).
 * Writes are synchronous so a line logged just before a crash is not lost.
 */
export class FileLogger implements Logger {
  private readonly listeners = new Set<(e: LogEntry) => void>();
  private readonly file: string | null;
  private readonly clock: () => number;

  constructor(file: string | null, clock: () => number = Date.now) {
    this.file = file;
    this.clock = clock;
  }

  log(level: LogLevel, message: string): void {
    const entry = { time: this.clock(), level, message };
    if (this.file) {
      try {
        appendFileSync(this.file, `${new Date(entry.time).toISOString()} ${level} ${message}\n`);
      } catch {
        // A full or read-only disk must not stop the work; listeners still get the line.
      }
    }
    for (const l of this.listeners) l(entry);
  }

  onLog(listener: (e: LogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
