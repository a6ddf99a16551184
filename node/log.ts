// The node's log: one line per notable event on stderr, with a level filter. Lines are
// `ISO-time level component: message key=value …`, easy to grep and to read in a terminal.

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

function fmt(v: unknown): string {
  const s = typeof v === 'string' ? v : v instanceof Error ? v.message : JSON.stringify(v);
  return /[\s"=]/.test(s ?? '') ? JSON.stringify(s) : String(s);
}

export function createLogger(
  level: LogLevel,
  component = 'node',
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const max = LOG_LEVELS.indexOf(level);
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(lvl) > max) return;
    const kv = fields ? Object.entries(fields).map(([k, v]) => ` ${k}=${fmt(v)}`).join('') : '';
    write(`${new Date().toISOString()} ${lvl.padEnd(5)} ${component}: ${msg}${kv}\n`);
  };
  return {
    error: (m, f) => emit('error', m, f),
    warn: (m, f) => emit('warn', m, f),
    info: (m, f) => emit('info', m, f),
    debug: (m, f) => emit('debug', m, f),
    child: (c) => createLogger(level, c, write),
  };
}
