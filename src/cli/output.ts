/** How the CLI writes: decorated on a terminal, plain lines when piped, JSON with --json. */
import type { Writable } from 'node:stream';

export interface Output {
  readonly tty: boolean;
  readonly json: boolean;
  line(text?: string): void;
  /** Writes a value as one JSON document (the --json form of a command). */
  data(value: unknown): void;
  /** Replaces the current status line on a terminal; a plain line otherwise. */
  status(text: string): void;
  error(text: string): void;
}

export function createOutput(options: { json?: boolean; stdout?: Writable & { isTTY?: boolean }; stderr?: Writable } = {}): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const tty = Boolean((stdout as { isTTY?: boolean }).isTTY) && !process.env.NO_COLOR;
  let statusShown = false;
  const clearStatus = () => {
    if (statusShown) {
      stdout.write('\r\x1b[2K');
      statusShown = false;
    }
  };
  return {
    tty,
    json: Boolean(options.json),
    line(text = '') {
      clearStatus();
      stdout.write(`${text}\n`);
    },
    data(value) {
      stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    status(text) {
      if (!tty) return;
      clearStatus();
      stdout.write(text.slice(0, (process.stdout.columns || 120) - 1));
      statusShown = true;
    },
    error(text) {
      clearStatus();
      stderr.write(`${text}\n`);
    },
  };
}

const ANSI = { green: 32, red: 31, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;
export function paint(out: Output, color: keyof typeof ANSI, text: string): string {
  return out.tty ? `\x1b[${ANSI[color]}m${text}\x1b[0m` : text;
}
